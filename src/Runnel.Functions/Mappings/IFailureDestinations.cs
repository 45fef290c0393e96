namespace Runnel.Functions.Mappings;

/// <summary>
/// Where a mapping sends the record of a batch it gave up (<c>DestinationConfig.OnFailure.Destination</c>), answered
/// by the server: a Kinesis stream of this endpoint (the record put under the shard's id as partition key), or, in
/// Runnel's terms, an http or https URL (the record POSTed).
/// </summary>
public interface IFailureDestinations
{
    /// <summary>Delivers <paramref name="record"/>; false (and the reason) when the destination is none of those or refused it.</summary>
    Task<(bool Delivered, string? Reason)> SendAsync(string account, string destination, string partitionKey, byte[] record, CancellationToken cancellationToken);
}
