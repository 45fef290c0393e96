namespace Runnel.Core.Errors;

/// <summary>
/// The error catalogue: every client-visible error with AWS's <c>__type</c> and message text, in one
/// place so that wording stays identical across operations.
/// </summary>
public static class KinesisErrors
{
    public static KinesisException StreamNotFound(string streamName, string accountId)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return new("ResourceNotFoundException", $"Stream {streamName} under account {accountId} not found.");
    }

    public static KinesisException StreamExists(string streamName, string accountId)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return new("ResourceInUseException", $"Stream {streamName} under account {accountId} already exists.");
    }

    /// <summary>
    /// CreateStream with the name of a stream whose metadata is damaged: the name is taken (its records are
    /// on disk and <c>runnel repair</c> may bring it back), so AWS's "in use" error, with what to do.
    /// </summary>
    public static KinesisException StreamDamaged(string streamName, string accountId)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return new("ResourceInUseException", $"Stream {streamName} under account {accountId} already exists, but its metadata is damaged and it is not served. " +
            "Ask the operator to run 'runnel repair'.");
    }

    public static KinesisException StreamNotActive(string streamName, string accountId, string status)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return new("ResourceInUseException", $"Stream {streamName} under account {accountId} not ACTIVE, instead in state {status}");
    }

    /// <summary>DeleteStream of a stream with registered consumers, without EnforceConsumerDeletion: AWS's text as
    /// captured by clients (with AWS's typographic apostrophe in "can’t").</summary>
    public static KinesisException StreamHasConsumers(string streamName, string accountId)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return new("ResourceInUseException", $"DeleteStream can\u2019t delete {accountId}:{streamName} because there are consumers associated with this data stream. " +
            $"To delete {streamName} anyway, set the EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are associated with it.");
    }

    /// <summary>A consumer named by stream and name that is not registered (AWS's text not captured).</summary>
    public static KinesisException ConsumerNotFound(string consumerName, string streamName, string accountId)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return new("ResourceNotFoundException", $"Consumer {consumerName} under stream {streamName} and account {accountId} not found.");
    }

    /// <summary>A consumer named by ARN (name and creation time) that is not registered (AWS's text not captured;
    /// worded like AWS's captured "Consumer … with creation timestamp … under stream … and account … is not in ACTIVE status.").</summary>
    public static KinesisException ConsumerNotFound(string consumerName, long creationSeconds, string streamName, string accountId)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return new("ResourceNotFoundException", $"Consumer {consumerName} with creation timestamp {creationSeconds} under stream {streamName} and account {accountId} not found.");
    }

    /// <summary>RegisterStreamConsumer with a name the stream already has (AWS's text not captured).</summary>
    public static KinesisException ConsumerExists(string consumerName, string streamName, string accountId)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return new("ResourceInUseException", $"Consumer {consumerName} under stream {streamName} and account {accountId} already exists.");
    }

    /// <summary>A 21st consumer on a stream (AWS's text not captured).</summary>
    public static KinesisException ConsumerLimitExceeded(string streamName, string accountId, int limit)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return new("LimitExceededException", $"Stream {streamName} under account {accountId} already has the maximum of {limit} registered consumers.");
    }

    /// <summary>A consumer registered while the stream has the most consumers CREATING at once (AWS's text not captured).</summary>
    public static KinesisException ConsumersCreatingLimitExceeded(string streamName, string accountId, int limit)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return new("LimitExceededException", $"Stream {streamName} under account {accountId} already has {limit} consumers in CREATING status; only {limit} can be created at the same time.");
    }

    public static KinesisException ResourceInUse(string message) => new("ResourceInUseException", message);

    public static KinesisException ResourceNotFound(string message) => new("ResourceNotFoundException", message);

    /// <summary>A data-plane request with DryRun true that passed every check (AWS's text not captured; EC2's wording).</summary>
    public static KinesisException DryRun() => new("DryRunOperationException", "Request would have succeeded, but DryRun flag is set.");

    public static string ShardRateExceeded(string shardId, string streamName, string accountId)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return $"Rate exceeded for shard {shardId} in stream {streamName} under account {accountId}.";
    }

    /// <summary>AWS's text for reads and control-plane calls over their rate (captured from AWS).</summary>
    public static string StreamRateExceeded(string streamName, string accountId)
    {
        (streamName, accountId) = Runnel.Core.Model.StreamNames.Split(streamName, accountId); // a qualified name shows its own account
        return $"Rate exceeded for stream {streamName} under account {accountId}.";
    }

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
