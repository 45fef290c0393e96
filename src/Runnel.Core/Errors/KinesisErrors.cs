namespace Runnel.Core.Errors;

/// <summary>
/// The error catalogue: every client-visible error with AWS's <c>__type</c> and message text, in one
/// place so that wording stays identical across operations.
/// </summary>
public static class KinesisErrors
{
    public static KinesisException StreamNotFound(string streamName, string accountId) =>
        new("ResourceNotFoundException", $"Stream {streamName} under account {accountId} not found.");

    public static KinesisException StreamExists(string streamName, string accountId) =>
        new("ResourceInUseException", $"Stream {streamName} under account {accountId} already exists.");

    /// <summary>
    /// CreateStream with the name of a stream whose metadata is damaged: the name is taken (its records are
    /// on disk and <c>runnel repair</c> may bring it back), so AWS's "in use" error, with what to do.
    /// </summary>
    public static KinesisException StreamDamaged(string streamName, string accountId) =>
        new("ResourceInUseException", $"Stream {streamName} under account {accountId} already exists, but its metadata is damaged and it is not served. " +
            "Ask the operator to run 'runnel repair'.");

    public static KinesisException StreamNotActive(string streamName, string accountId, string status) =>
        new("ResourceInUseException", $"Stream {streamName} under account {accountId} not ACTIVE, instead in state {status}");

    public static KinesisException ResourceInUse(string message) => new("ResourceInUseException", message);

    public static KinesisException ResourceNotFound(string message) => new("ResourceNotFoundException", message);

    public static string ShardRateExceeded(string shardId, string streamName, string accountId) =>
        $"Rate exceeded for shard {shardId} in stream {streamName} under account {accountId}.";

    /// <summary>AWS's text for reads and control-plane calls over their rate (captured from AWS).</summary>
    public static string StreamRateExceeded(string streamName, string accountId) =>
        $"Rate exceeded for stream {streamName} under account {accountId}.";

    public static KinesisException ProvisionedThroughputExceeded(string message) => new("ProvisionedThroughputExceededException", message);

    public static KinesisException InvalidArgument(string message) => new("InvalidArgumentException", message);

    public static KinesisException LimitExceeded(string message) => new("LimitExceededException", message);

    public static KinesisException Validation(string message) => new("ValidationException", message);

    /// <summary>A member of the wrong JSON type (AWS sends this one with a capital-M <c>Message</c>).</summary>
    public static KinesisException Serialization(string message) => new("SerializationException", message) { CapitalMessageField = true };

    /// <summary>A body that does not parse: AWS sends only the type.</summary>
    public static KinesisException MalformedBody() => new("SerializationException", null);

    public static KinesisException ExpiredIterator(string message) => new("ExpiredIteratorException", message);

    public static KinesisException ExpiredNextToken(string message) => new("ExpiredNextTokenException", message);

    public static KinesisException UnknownOperation() => new("UnknownOperationException", null);

    public static KinesisException MissingAuthenticationToken() =>
        new("MissingAuthenticationTokenException", "Missing Authentication Token", 400);

    public static KinesisException IncompleteSignature(string message) =>
        new("IncompleteSignatureException", message, 400);

    public static KinesisException AccessDenied(string message) => new("AccessDeniedException", message, 400);

    /// <summary>AWS's InternalFailure (500, retried by the SDKs), always with a message: "Internal service failure."
    /// or, with <paramref name="detail"/>, "Internal service failure: {detail}."</summary>
    public static KinesisException InternalFailure(string? detail = null) => new("InternalFailure", InternalFailureMessage(detail), 500);

    /// <summary>The detail of an InternalFailure when the server's disk refused a write (<paramref name="condition"/>:
    /// "disk full", "read-only filesystem", ...); the log tells the operator more.</summary>
    public static string StorageFailure(string condition) =>
        $"the server could not write to its disk ({condition}); nothing was stored, retry later";

    /// <summary>The text of an InternalFailure, also the ErrorMessage of a PutRecords entry that failed inside the server.</summary>
    public static string InternalFailureMessage(string? detail = null) => detail is null ? "Internal service failure." : $"Internal service failure: {detail}.";

    public static KinesisException InvalidSignature(string message) => new("InvalidSignatureException", message);
}
