using Runnel.Client.Leases;

namespace Runnel.Client.Tests.Leases;

/// <summary>
/// The lease table against Runnel's DynamoDB through its HTTP endpoint: made once however many workers ask, leases
/// created once, taken, renewed, checkpointed and released under the KCL's conditions, so that a worker acting on a
/// stale reading changes nothing; a scan lists every lease over several pages.
/// </summary>
public sealed class LeaseTableTests(RunnelFixture fixture) : IClassFixture<RunnelFixture>
{
    [Fact(Timeout = 60_000)]
    public async Task Leases_change_hands_only_under_the_KCLs_conditions()
    {
        using var dynamo = fixture.Host.DynamoDb();
        var table = new LeaseTable(dynamo, RunnelHost.UniqueName("app"));
        await table.CreateIfMissingAsync();
        await table.CreateIfMissingAsync(); // a second worker making it finds it made

        var fresh = new Lease { LeaseKey = "shardId-000000000000", StartingHashKey = "0", EndingHashKey = "340282366920938463463374607431768211455" };
        Assert.True(await table.CreateAsync(fresh));
        Assert.False(await table.CreateAsync(fresh with { LeaseOwner = "intruder" }));

        // Two workers read the free lease; w1 takes it first, w2's take on the same reading fails.
        var read = Assert.Single(await table.ListAsync());
        var taken = await table.TakeAsync(read, "w1");
        Assert.NotNull(taken);
        Assert.Equal(("w1", 1L, 0L), (taken!.LeaseOwner, taken.LeaseCounter, taken.OwnerSwitchesSinceCheckpoint));
        Assert.Null(await table.TakeAsync(read, "w2"));

        // w1 renews and checkpoints; a checkpoint from the reading before the renewal is refused.
        var renewed = await table.RenewAsync(taken);
        Assert.Equal(2, renewed!.LeaseCounter);
        Assert.Null(await table.CheckpointAsync(taken, new ExtendedSequenceNumber("100")));
        var checkpointed = await table.CheckpointAsync(renewed, new ExtendedSequenceNumber("49590338271490256608559692538361571095921575989136588898", 2));
        Assert.Equal(new ExtendedSequenceNumber("49590338271490256608559692538361571095921575989136588898", 2), checkpointed!.Checkpoint);
        Assert.Equal(3, checkpointed.LeaseCounter);

        // w2 steals it (as read now): the owner switch is counted; w1's checkpoint from before is refused.
        var stolen = await table.TakeAsync(checkpointed, "w2");
        Assert.Equal(("w2", 4L, 1L), (stolen!.LeaseOwner, stolen.LeaseCounter, stolen.OwnerSwitchesSinceCheckpoint));
        Assert.Null(await table.CheckpointAsync(checkpointed, ExtendedSequenceNumber.ShardEnd));
        Assert.False(await table.ReleaseAsync(checkpointed));

        // w2 finishes the shard, naming its children, and lets it go.
        var ended = await table.CheckpointAsync(stolen, ExtendedSequenceNumber.ShardEnd, ["shardId-000000000001", "shardId-000000000002"]);
        Assert.True(ended!.IsFinished);
        Assert.Equal(0, ended.OwnerSwitchesSinceCheckpoint);
        Assert.True(await table.ReleaseAsync(ended));
        var last = Assert.Single(await table.ListAsync());
        Assert.Null(last.LeaseOwner);
        Assert.Equal(["shardId-000000000001", "shardId-000000000002"], last.ChildShardIds);
        Assert.Equal("340282366920938463463374607431768211455", last.EndingHashKey);

        await table.DeleteAsync(last.LeaseKey);
        Assert.Empty(await table.ListAsync());
    }

    [Fact(Timeout = 120_000)]
    public async Task A_scan_lists_every_lease_over_pages()
    {
        using var dynamo = fixture.Host.DynamoDb();
        var table = new LeaseTable(dynamo, RunnelHost.UniqueName("many"));
        await table.CreateIfMissingAsync();
        // Items of about 1.5 KiB each: 1,000 of them pass a 1 MB scan page.
        string parents = new('p', 1500);
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            Assert.True(await table.CreateAsync(new Lease { LeaseKey = $"shardId-{i:D12}", ParentShardIds = [parents] }, ct)));
        var leases = await table.ListAsync();
        Assert.Equal(1000, leases.Count);
        Assert.Equal(1000, leases.Select(l => l.LeaseKey).Distinct().Count());
    }
}
