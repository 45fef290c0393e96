using Runnel.Client.Models;

namespace Runnel.Client;

/// <summary>
/// Waits for a stream or a consumer made with the client to become usable: both start <c>CREATING</c> and become
/// <c>ACTIVE</c> after a while (seconds on AWS; at once on Runnel unless configured otherwise). Each polls the
/// Describe operation at <c>pollInterval</c> (default 1 s) until then; bound the wait with the cancellation token.
/// Thread-safe.
/// </summary>
public static class KinesisWaiters
{
    private static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>Waits until the stream is <c>ACTIVE</c> and returns its summary.</summary>
    /// <exception cref="InvalidOperationException">The stream is being deleted.</exception>
    public static async Task<StreamDescriptionSummary> WaitForStreamActiveAsync(this KinesisClient client, DescribeStreamSummaryRequest stream, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        while (true)
        {
            var summary = (await client.DescribeStreamSummaryAsync(stream, cancellationToken).ConfigureAwait(false)).StreamDescriptionSummary;
            switch (summary.StreamStatus)
            {
                case "ACTIVE":
                    return summary;
                case "DELETING":
                    throw new InvalidOperationException($"The stream {summary.StreamName} is being deleted; it will not become ACTIVE.");
            }
            await Task.Delay(pollInterval ?? DefaultPollInterval, client.Clock, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until the consumer is <c>ACTIVE</c> (SubscribeToShard refuses it before) and returns it.</summary>
    /// <exception cref="InvalidOperationException">The consumer is being deregistered.</exception>
    public static async Task<Consumer> WaitForConsumerActiveAsync(this KinesisClient client, StreamConsumerRequest consumer, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        while (true)
        {
            var description = (await client.DescribeStreamConsumerAsync(consumer, cancellationToken).ConfigureAwait(false)).ConsumerDescription;
            switch (description.ConsumerStatus)
            {
                case "ACTIVE":
                    return description;
                case "DELETING":
                    throw new InvalidOperationException($"The consumer {description.ConsumerName} is being deregistered; it will not become ACTIVE.");
            }
            await Task.Delay(pollInterval ?? DefaultPollInterval, client.Clock, cancellationToken).ConfigureAwait(false);
        }
    }
}
