using Runnel.Client.Leases;
using Runnel.Client.Processing;

namespace Runnel.Client.Tests.Processing;

/// <summary>
/// A held lease whose write landed without its answer (a renewal cancelled at shutdown, a timeout) goes on from the
/// stored lease while the table still names its holder, and counts itself lost once another holder has it.
/// </summary>
public sealed class HeldLeaseTests(RunnelFixture fixture) : IClassFixture<RunnelFixture>
{
    [Fact(Timeout = 60_000)]
    public async Task A_write_whose_answer_was_lost_does_not_lose_the_lease_and_a_steal_does()
    {
        using var dynamo = fixture.Host.DynamoDb();
        var table = new LeaseTable(dynamo, RunnelHost.UniqueName("held"));
        await table.CreateIfMissingAsync();
        Assert.True(await table.CreateAsync(new Lease { LeaseKey = "shardId-000000000000", StartingHashKey = "0", EndingHashKey = "1" }));
        var taken = await table.TakeAsync(Assert.Single(await table.ListAsync()), "w1");
        var held = new HeldLease(table, taken!);

        // A renewal reaches the table, but the holder never hears of it: its counter is behind the table's.
        Assert.NotNull(await table.RenewAsync(taken!));
        Assert.True(await held.RenewAsync(CancellationToken.None));
        Assert.Equal(3, held.Current.LeaseCounter);
        Assert.True(await held.CheckpointAsync(new ExtendedSequenceNumber("7"), null, CancellationToken.None));

        // Again, then a release (a shutdown): the lease is let go all the same.
        Assert.NotNull(await table.RenewAsync(held.Current));
        await held.ReleaseAsync(CancellationToken.None);
        var released = Assert.Single(await table.ListAsync());
        Assert.Null(released.LeaseOwner);
        Assert.Equal(new ExtendedSequenceNumber("7"), released.Checkpoint);

        // Another worker's lease is not ours however stale our reading: a renewal after a steal loses it.
        var mine = new HeldLease(table, (await table.TakeAsync(released, "w1"))!);
        Assert.NotNull(await table.TakeAsync((await table.GetAsync("shardId-000000000000"))!, "w2"));
        Assert.False(await mine.RenewAsync(CancellationToken.None));
        Assert.True(mine.IsLost);
        Assert.Equal("w2", (await table.GetAsync("shardId-000000000000"))!.LeaseOwner);
    }
}
