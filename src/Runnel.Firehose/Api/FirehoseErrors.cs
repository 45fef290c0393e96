using Runnel.Core.Errors;

namespace Runnel.Firehose.Api;

/// <summary>
/// Firehose's errors as AWS sends them: <c>__type</c>, lower-case <c>message</c>, 400 (503 for ServiceUnavailable).
/// Texts captured from AWS where docs/adr/0002-firehose-api.md has them; Runnel's own otherwise, listed in
/// docs/compatibility.md.
/// </summary>
public static class FirehoseErrors
{
    public static KinesisException NotFound(string name, string account) =>
        new("ResourceNotFoundException", $"Firehose {name} under account {account} not found.");

    public static KinesisException AlreadyExists(string name, string account) =>
        new("ResourceInUseException", $"Firehose {name} under accountId {account} already exists");

    public static KinesisException InUse(string message) => new("ResourceInUseException", message);

    public static KinesisException InvalidArgument(string message) => new("InvalidArgumentException", message);

    public static KinesisException LimitExceeded(string message) => new("LimitExceededException", message);

    public static KinesisException ConcurrentModification(string message) => new("ConcurrentModificationException", message);

    public static KinesisException ServiceUnavailable(string message) => new("ServiceUnavailableException", message, 503);

    /// <summary>PutRecord or PutRecordBatch on a stream that reads a Kinesis stream (AWS's text).</summary>
    public static KinesisException NotDirectPut() =>
        InvalidArgument("This operation is not permitted on KinesisStreamAsSource delivery stream type.");
}
