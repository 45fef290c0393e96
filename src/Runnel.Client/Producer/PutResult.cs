using Runnel.Client.Aggregation;

namespace Runnel.Client.Producer;

/// <summary>Where a user record was stored, once the Kinesis record holding it was acknowledged (durable).</summary>
/// <param name="ShardId">The shard that took it.</param>
/// <param name="SequenceNumber">The sequence number of the Kinesis record holding it.</param>
/// <param name="SubSequenceNumber">Its place in that record's aggregate, from 0 (0 for a record sent alone), as a consumer's deaggregator numbers it.</param>
/// <param name="Attempts">The puts it took, the first included.</param>
public sealed record PutResult(string ShardId, string SequenceNumber, long SubSequenceNumber, int Attempts);

/// <summary>
/// A user record the producer gave up on: an error the service will not take back (such as
/// <c>ResourceNotFoundException</c> or a validation error), its <see cref="ProducerOptions.RecordTtl"/> passed while
/// retrying (<see cref="ExpiredErrorCode"/>), or the producer closed before it was sent.
/// </summary>
public sealed class ProducerRecordException : Exception
{
    /// <summary>The error code of a record whose TTL passed before it was durable.</summary>
    public const string ExpiredErrorCode = "RecordExpired";

    /// <summary>The error code of a record still buffered when the producer stopped.</summary>
    public const string ClosedErrorCode = "ProducerClosed";

    /// <summary>A record's failure.</summary>
    public ProducerRecordException(string errorCode, string message, int attempts, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
        Attempts = attempts;
    }

    /// <summary>The service's error code (of the call or of the record), or <see cref="ExpiredErrorCode"/> or <see cref="ClosedErrorCode"/>.</summary>
    public string ErrorCode { get; }

    /// <summary>The puts the record had, the first included (0 when it was never sent).</summary>
    public int Attempts { get; }
}

/// <summary>A record given to <see cref="KinesisProducer.EnqueueAsync"/> or <see cref="KinesisProducer.TryEnqueue"/> that failed.</summary>
public sealed class RecordFailedEventArgs : EventArgs
{
    /// <summary>A failure report.</summary>
    public RecordFailedEventArgs(UserRecord record, ProducerRecordException error)
    {
        Record = record;
        Error = error;
    }

    /// <summary>The record, as given.</summary>
    public UserRecord Record { get; }

    /// <summary>Why it failed.</summary>
    public ProducerRecordException Error { get; }
}
