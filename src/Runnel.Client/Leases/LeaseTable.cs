using System.Text.Json.Nodes;

namespace Runnel.Client.Leases;

/// <summary>
/// An application's lease table in DynamoDB (on Runnel or on AWS), in the KCL's schema (docs/formats/kcl-leases.md):
/// creating it, listing its leases, and the conditional writes that change one. A write made on a stale reading
/// answers null or false (the table's ConditionalCheckFailedException) rather than throwing, since losing such a race
/// is an expected outcome among workers. Thread-safe.
/// </summary>
public sealed class LeaseTable(DynamoDbClient dynamo, string tableName)
{
    /// <summary>The table's name (the KCL uses the application's name).</summary>
    public string TableName { get; } = tableName;

    /// <summary>Creates the table unless it exists, then waits (up to <paramref name="timeout"/>, default 2 minutes) until it is ACTIVE.</summary>
    /// <exception cref="TimeoutException">The table did not become ACTIVE in time.</exception>
    public async Task CreateIfMissingAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        try
        {
            await dynamo.SendAsync("CreateTable", LeaseRequests.CreateTable(TableName), cancellationToken).ConfigureAwait(false);
        }
        catch (DynamoDbException e) when (e.ErrorCode == "ResourceInUseException")
        {
            // made already (by another worker, or before)
        }
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var described = await dynamo.SendAsync("DescribeTable", new JsonObject { ["TableName"] = TableName }, cancellationToken).ConfigureAwait(false);
            if (described["Table"]?["TableStatus"]?.GetValue<string>() == "ACTIVE")
                return;
            if (DateTime.UtcNow > until)
                throw new TimeoutException($"lease table {TableName} did not become ACTIVE");
            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every lease of the table (a consistent scan, all pages).</summary>
    public async Task<IReadOnlyList<Lease>> ListAsync(CancellationToken cancellationToken = default)
    {
        var leases = new List<Lease>();
        JsonObject? start = null;
        do
        {
            var page = await dynamo.SendAsync("Scan", LeaseRequests.Scan(TableName, start), cancellationToken).ConfigureAwait(false);
            if (page["Items"] is JsonArray items)
                foreach (var item in items.OfType<JsonObject>())
                    leases.Add(LeaseItems.FromItem(item));
            start = page["LastEvaluatedKey"] is JsonObject next ? (JsonObject)next.DeepClone() : null;
        }
        while (start is not null);
        return leases;
    }

    /// <summary>The lease of <paramref name="leaseKey"/> as stored (a consistent read); null when there is none.</summary>
    public async Task<Lease?> GetAsync(string leaseKey, CancellationToken cancellationToken = default) =>
        (await dynamo.SendAsync("GetItem", LeaseRequests.Get(TableName, leaseKey), cancellationToken).ConfigureAwait(false))["Item"] is JsonObject item
            ? LeaseItems.FromItem(item)
            : null;

    /// <summary>Creates <paramref name="lease"/>; false when a lease of its key exists already.</summary>
    public async Task<bool> CreateAsync(Lease lease, CancellationToken cancellationToken = default) =>
        await Conditional("PutItem", LeaseRequests.Create(TableName, lease), cancellationToken).ConfigureAwait(false) is not null;

    /// <summary><paramref name="owner"/> takes <paramref name="lease"/> (as read); the lease as stored after, or null when it changed since it was read.</summary>
    public Task<Lease?> TakeAsync(Lease lease, string owner, CancellationToken cancellationToken = default) =>
        Updated(LeaseRequests.Take(TableName, lease, owner), cancellationToken);

    /// <summary>Renews <paramref name="lease"/> for its holder; the lease after, or null when the holder lost it.</summary>
    public Task<Lease?> RenewAsync(Lease lease, CancellationToken cancellationToken = default) =>
        Updated(LeaseRequests.Renew(TableName, lease), cancellationToken);

    /// <summary>Checkpoints <paramref name="lease"/> at <paramref name="checkpoint"/> for its holder (with the shard's children at SHARD_END); the lease after, or null when the holder lost it.</summary>
    public Task<Lease?> CheckpointAsync(Lease lease, ExtendedSequenceNumber checkpoint, IReadOnlyList<string>? childShardIds = null, CancellationToken cancellationToken = default) =>
        Updated(LeaseRequests.Checkpoint(TableName, lease, checkpoint, childShardIds), cancellationToken);

    /// <summary>Lets <paramref name="lease"/> go; false when its holder had lost it already.</summary>
    public async Task<bool> ReleaseAsync(Lease lease, CancellationToken cancellationToken = default) =>
        await Updated(LeaseRequests.Release(TableName, lease), cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Deletes the lease of <paramref name="leaseKey"/> (nothing happens when there is none).</summary>
    public Task DeleteAsync(string leaseKey, CancellationToken cancellationToken = default) =>
        dynamo.SendAsync("DeleteItem", LeaseRequests.Delete(TableName, leaseKey), cancellationToken);

    private async Task<Lease?> Updated(JsonObject request, CancellationToken cancellationToken) =>
        await Conditional("UpdateItem", request, cancellationToken).ConfigureAwait(false) is { } answer && answer["Attributes"] is JsonObject item
            ? LeaseItems.FromItem(item)
            : null;

    private async Task<JsonObject?> Conditional(string operation, JsonObject request, CancellationToken cancellationToken)
    {
        try
        {
            return await dynamo.SendAsync(operation, request, cancellationToken).ConfigureAwait(false);
        }
        catch (DynamoDbException e) when (e.ErrorCode == "ConditionalCheckFailedException")
        {
            return null;
        }
    }
}
