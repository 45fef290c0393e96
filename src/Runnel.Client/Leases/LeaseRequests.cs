using System.Text.Json.Nodes;

namespace Runnel.Client.Leases;

/// <summary>
/// The DynamoDB requests (JSON 1.0 bodies) that change a lease, each conditional as the KCL makes them, in the legacy
/// <c>Expected</c> and <c>AttributeUpdates</c> form the KCL itself sends, so that the lease table behaves the same under
/// either library: a write based on a stale reading fails with ConditionalCheckFailedException and changes nothing.
/// </summary>
public static class LeaseRequests
{
    /// <summary>CreateTable for an application's lease table: a string hash key <c>leaseKey</c>, on-demand billing.</summary>
    public static JsonObject CreateTable(string table) => new()
    {
        ["TableName"] = table,
        ["AttributeDefinitions"] = new JsonArray(new JsonObject { ["AttributeName"] = LeaseItems.LeaseKey, ["AttributeType"] = "S" }),
        ["KeySchema"] = new JsonArray(new JsonObject { ["AttributeName"] = LeaseItems.LeaseKey, ["KeyType"] = "HASH" }),
        ["BillingMode"] = "PAY_PER_REQUEST",
    };

    /// <summary>PutItem of a new lease, only if no lease of its key exists.</summary>
    public static JsonObject Create(string table, Lease lease) => new()
    {
        ["TableName"] = table,
        ["Item"] = LeaseItems.ToItem(lease),
        ["Expected"] = new JsonObject { [LeaseItems.LeaseKey] = new JsonObject { ["Exists"] = false } },
    };

    /// <summary>A renewal by its holder: the counter raised by 1, if the lease is still at <paramref name="lease"/>'s counter and held by its owner.</summary>
    public static JsonObject Renew(string table, Lease lease) =>
        Update(table, lease.LeaseKey, ExpectCounterAndOwner(lease), new JsonObject { [LeaseItems.LeaseCounter] = Put(LeaseItems.N(lease.LeaseCounter + 1)) });

    /// <summary>
    /// <paramref name="owner"/> takes the lease (free, expired, or stolen for balance): if it is still at the counter
    /// <paramref name="lease"/> was read with, the owner is set and the counter raised; a change of holder counts in
    /// <c>ownerSwitchesSinceCheckpoint</c>.
    /// </summary>
    public static JsonObject Take(string table, Lease lease, string owner)
    {
        var updates = new JsonObject
        {
            [LeaseItems.LeaseOwner] = Put(LeaseItems.S(owner)),
            [LeaseItems.LeaseCounter] = Put(LeaseItems.N(lease.LeaseCounter + 1)),
        };
        if (lease.LeaseOwner is { } previous && previous != owner)
            updates[LeaseItems.OwnerSwitchesSinceCheckpoint] = new JsonObject { ["Action"] = "ADD", ["Value"] = LeaseItems.N(1) };
        return Update(table, lease.LeaseKey, ExpectCounter(lease.LeaseCounter), updates);
    }

    /// <summary>
    /// A checkpoint by the holder at <paramref name="checkpoint"/> (with the shard's children once it ended): counter
    /// raised, pending checkpoint cleared, owner switches reset; only if the lease is still at <paramref name="lease"/>'s
    /// counter and held by its owner (so a worker that lost the lease cannot move its checkpoint).
    /// </summary>
    public static JsonObject Checkpoint(string table, Lease lease, ExtendedSequenceNumber checkpoint, IReadOnlyList<string>? childShardIds = null)
    {
        var updates = new JsonObject
        {
            [LeaseItems.LeaseCounter] = Put(LeaseItems.N(lease.LeaseCounter + 1)),
            [LeaseItems.Checkpoint] = Put(LeaseItems.S(checkpoint.SequenceNumber)),
            [LeaseItems.CheckpointSubSequenceNumber] = Put(LeaseItems.N(checkpoint.SubSequenceNumber)),
            [LeaseItems.OwnerSwitchesSinceCheckpoint] = Put(LeaseItems.N(0)),
            [LeaseItems.PendingCheckpoint] = new JsonObject { ["Action"] = "DELETE" },
            [LeaseItems.PendingCheckpointSubSequenceNumber] = new JsonObject { ["Action"] = "DELETE" },
        };
        if (childShardIds is { Count: > 0 })
            updates[LeaseItems.ChildShardIds] = Put(LeaseItems.SS(childShardIds));
        return Update(table, lease.LeaseKey, ExpectCounterAndOwner(lease), updates);
    }

    /// <summary>The holder lets the lease go (shutting down): owner removed, counter raised, if it still holds it.</summary>
    public static JsonObject Release(string table, Lease lease) => Update(table, lease.LeaseKey,
        new JsonObject { [LeaseItems.LeaseOwner] = new JsonObject { ["Value"] = LeaseItems.S(lease.LeaseOwner ?? "") } },
        new JsonObject
        {
            [LeaseItems.LeaseOwner] = new JsonObject { ["Action"] = "DELETE" },
            [LeaseItems.LeaseCounter] = Put(LeaseItems.N(lease.LeaseCounter + 1)),
        });

    /// <summary>DeleteItem of a lease (a finished shard whose children are being processed).</summary>
    public static JsonObject Delete(string table, string leaseKey) => new()
    {
        ["TableName"] = table,
        ["Key"] = new JsonObject { [LeaseItems.LeaseKey] = LeaseItems.S(leaseKey) },
    };

    /// <summary>A consistent GetItem of one lease.</summary>
    public static JsonObject Get(string table, string leaseKey) => new()
    {
        ["TableName"] = table,
        ["Key"] = new JsonObject { [LeaseItems.LeaseKey] = LeaseItems.S(leaseKey) },
        ["ConsistentRead"] = true,
    };

    /// <summary>A consistent Scan of the table from <paramref name="exclusiveStartKey"/> (null for the first page).</summary>
    public static JsonObject Scan(string table, JsonObject? exclusiveStartKey)
    {
        var request = new JsonObject { ["TableName"] = table, ["ConsistentRead"] = true };
        if (exclusiveStartKey is not null)
            request["ExclusiveStartKey"] = exclusiveStartKey;
        return request;
    }

    private static JsonObject Update(string table, string leaseKey, JsonObject expected, JsonObject updates) => new()
    {
        ["TableName"] = table,
        ["Key"] = new JsonObject { [LeaseItems.LeaseKey] = LeaseItems.S(leaseKey) },
        ["Expected"] = expected,
        ["AttributeUpdates"] = updates,
        ["ReturnValues"] = "ALL_NEW",
    };

    private static JsonObject Put(JsonObject value) => new() { ["Action"] = "PUT", ["Value"] = value };

    private static JsonObject ExpectCounter(long counter) =>
        new() { [LeaseItems.LeaseCounter] = new JsonObject { ["Value"] = LeaseItems.N(counter) } };

    private static JsonObject ExpectCounterAndOwner(Lease lease)
    {
        var expected = ExpectCounter(lease.LeaseCounter);
        expected[LeaseItems.LeaseOwner] = lease.LeaseOwner is { } owner
            ? new JsonObject { ["Value"] = LeaseItems.S(owner) }
            : new JsonObject { ["Exists"] = false };
        return expected;
    }
}
