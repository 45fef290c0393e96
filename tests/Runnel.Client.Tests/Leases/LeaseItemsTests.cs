using System.Text.Json.Nodes;
using Runnel.Client.Leases;

namespace Runnel.Client.Tests.Leases;

/// <summary>Leases as items of the KCL's lease table, both ways, and the ordering of checkpoints.</summary>
public sealed class LeaseItemsTests
{
    [Fact]
    public void A_lease_becomes_the_KCLs_item_and_comes_back_whole()
    {
        var lease = new Lease
        {
            LeaseKey = "shardId-000000000004",
            LeaseOwner = "worker-a",
            LeaseCounter = 17,
            Checkpoint = new("49590338271490256608559692538361571095921575989136588898", 3),
            PendingCheckpoint = new("49590338271490256608559692538361571095921575989136588999"),
            OwnerSwitchesSinceCheckpoint = 2,
            ParentShardIds = ["shardId-000000000001", "shardId-000000000002"],
            ChildShardIds = ["shardId-000000000007"],
            StartingHashKey = "0",
            EndingHashKey = "170141183460469231731687303715884105727",
        };
        var item = LeaseItems.ToItem(lease);
        Assert.Equal("""{"S":"shardId-000000000004"}""", item["leaseKey"]!.ToJsonString());
        Assert.Equal("""{"N":"17"}""", item["leaseCounter"]!.ToJsonString());
        Assert.Equal("""{"S":"worker-a"}""", item["leaseOwner"]!.ToJsonString());
        Assert.Equal("""{"N":"3"}""", item["checkpointSubSequenceNumber"]!.ToJsonString());
        Assert.Equal("""{"SS":["shardId-000000000001","shardId-000000000002"]}""", item["parentShardId"]!.ToJsonString());
        Assert.Equal("""{"SS":["shardId-000000000007"]}""", item["childShardIds"]!.ToJsonString());

        var back = LeaseItems.FromItem(JsonNode.Parse(item.ToJsonString())!.AsObject());
        Assert.Equal(lease.LeaseKey, back.LeaseKey);
        Assert.Equal(lease.Checkpoint, back.Checkpoint);
        Assert.Equal(lease.PendingCheckpoint, back.PendingCheckpoint);
        Assert.Equal(lease.ParentShardIds, back.ParentShardIds);
        Assert.Equal(lease.ChildShardIds, back.ChildShardIds);
        Assert.Equal((17L, 2L, "worker-a", "0"), (back.LeaseCounter, back.OwnerSwitchesSinceCheckpoint, back.LeaseOwner, back.StartingHashKey));
    }

    [Fact]
    public void A_new_lease_has_no_owner_and_the_KCLs_defaults()
    {
        var item = LeaseItems.ToItem(new Lease { LeaseKey = "shardId-000000000000" });
        Assert.Null(item["leaseOwner"]);
        Assert.Null(item["parentShardId"]);
        Assert.Equal("""{"S":"TRIM_HORIZON"}""", item["checkpoint"]!.ToJsonString());
        // An item as a Java KCL 3 worker writes it, with attributes this library does not use.
        var kcl = JsonNode.Parse("""
            {"leaseKey":{"S":"shardId-000000000001"},"leaseCounter":{"N":"9"},"checkpoint":{"S":"SHARD_END"},"checkpointSubSequenceNumber":{"N":"0"},
             "ownerSwitchesSinceCheckpoint":{"N":"0"},"throughputKBps":{"N":"12.5"},"checkpointOwner":{"S":"w"},"leaseOwner":{"S":"w"}}
            """)!.AsObject();
        var lease = LeaseItems.FromItem(kcl);
        Assert.True(lease.IsFinished);
        Assert.Equal(9, lease.LeaseCounter);
        Assert.Throws<FormatException>(() => LeaseItems.FromItem(new JsonObject { ["leaseCounter"] = LeaseItems.N(1) }));
    }

    [Fact]
    public void Checkpoints_are_ordered_as_the_KCL_orders_them()
    {
        var ordered = new[]
        {
            ExtendedSequenceNumber.AtTimestamp, ExtendedSequenceNumber.TrimHorizon, ExtendedSequenceNumber.Latest,
            new("9"), new("9", 1), new("10"), new("99"), new("49590338271490256608559692538361571095921575989136588898"),
            new("49590338271490256608559692538361571095921575989136588899"), new("59590338271490256608559692538361571095921575989136588800"), ExtendedSequenceNumber.ShardEnd,
        };
        for (int i = 0; i < ordered.Length; i++)
            for (int j = 0; j < ordered.Length; j++)
                Assert.Equal(Math.Sign(i.CompareTo(j)), Math.Sign(ordered[i].CompareTo(ordered[j])));
        Assert.True(new ExtendedSequenceNumber("10") > new ExtendedSequenceNumber("9", 5));
        Assert.Equal(0, new ExtendedSequenceNumber("010").CompareTo(new ExtendedSequenceNumber("10"))); // compared as numbers, not as text
        Assert.Throws<FormatException>(() => new ExtendedSequenceNumber("12a").CompareTo(ExtendedSequenceNumber.Latest));
        Assert.Equal("9.1", new ExtendedSequenceNumber("9", 1).ToString());
    }

    [Fact]
    public void Lease_writes_are_conditional_on_what_was_read()
    {
        var lease = new Lease { LeaseKey = "shardId-000000000002", LeaseOwner = "w1", LeaseCounter = 4 };
        var take = LeaseRequests.Take("app", lease, "w2");
        Assert.Equal("""{"leaseCounter":{"Value":{"N":"4"}}}""", take["Expected"]!.ToJsonString());
        Assert.Equal("""{"S":"w2"}""", take["AttributeUpdates"]!["leaseOwner"]!["Value"]!.ToJsonString());
        Assert.Equal("""{"Action":"ADD","Value":{"N":"1"}}""", take["AttributeUpdates"]!["ownerSwitchesSinceCheckpoint"]!.ToJsonString());
        Assert.Null(LeaseRequests.Take("app", lease, "w1")["AttributeUpdates"]!["ownerSwitchesSinceCheckpoint"]); // no switch

        var checkpoint = LeaseRequests.Checkpoint("app", lease, ExtendedSequenceNumber.ShardEnd, ["shardId-000000000005"]);
        Assert.Equal("""{"leaseCounter":{"Value":{"N":"4"}},"leaseOwner":{"Value":{"S":"w1"}}}""", checkpoint["Expected"]!.ToJsonString());
        Assert.Equal("""{"Action":"PUT","Value":{"N":"5"}}""", checkpoint["AttributeUpdates"]!["leaseCounter"]!.ToJsonString());
        Assert.Equal("""{"S":"SHARD_END"}""", checkpoint["AttributeUpdates"]!["checkpoint"]!["Value"]!.ToJsonString());
        Assert.Equal("""{"Action":"PUT","Value":{"SS":["shardId-000000000005"]}}""", checkpoint["AttributeUpdates"]!["childShardIds"]!.ToJsonString());

        Assert.Equal("""{"leaseKey":{"Exists":false}}""", LeaseRequests.Create("app", lease)["Expected"]!.ToJsonString());
        Assert.Equal("""{"leaseOwner":{"Value":{"S":"w1"}}}""", LeaseRequests.Release("app", lease)["Expected"]!.ToJsonString());
    }
}
