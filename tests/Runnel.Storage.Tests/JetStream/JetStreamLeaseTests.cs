using Runnel.Storage.JetStream;

namespace Runnel.Storage.Tests.JetStream;

/// <summary>The elected node: one holder at a time, taken over when the holder stops renewing or lets go.</summary>
[Collection(NatsClusterCollection.Name)]
public sealed class JetStreamLeaseTests(NatsClusterFixture nats)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);

    private Task<JetStreamLease> NodeAsync(string bucket, string node) =>
        JetStreamLease.OpenAsync(nats.JetStream, bucket, node, Lease, 3, TimeProvider.System);

    private static string NewBucket() => "RUNNEL_LEASE_TEST_" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Tries until <paramref name="lease"/> holds it (the server removes an abandoned lease a little after it ends).</summary>
    private static async Task<bool> EventuallyAcquiresAsync(JetStreamLease lease)
    {
        for (int i = 0; i < 100; i++)
        {
            if (await lease.TryAcquireAsync())
                return true;
            await Task.Delay(200);
        }
        return false;
    }

    [Fact(Timeout = 60000)]
    public async Task One_node_holds_the_lease_and_another_takes_it_once_the_holder_stops_renewing()
    {
        string bucket = NewBucket();
        await using var a = await NodeAsync(bucket, "node-a");
        await using var b = await NodeAsync(bucket, "node-b");
        var changes = new List<bool>();
        a.Changed += held => { lock (changes) changes.Add(held); };

        Assert.True(await a.TryAcquireAsync());
        Assert.True(a.IsHeld);
        Assert.False(await b.TryAcquireAsync());
        Assert.False(b.IsHeld);
        Assert.True(await a.TryAcquireAsync()); // a renewal
        Assert.False(await b.TryAcquireAsync());

        // a stops renewing, as a node that died: after the lease the server lets b in, and a no longer acts.
        Assert.True(await EventuallyAcquiresAsync(b), "b never took over the abandoned lease");
        Assert.False(a.IsHeld, "a still counts itself the leader after its lease ran out");
        Assert.False(await a.TryAcquireAsync());
        lock (changes)
            Assert.Equal([true, false], changes);
    }

    [Fact(Timeout = 60000)]
    public async Task A_released_lease_is_taken_at_once_and_of_many_contenders_exactly_one_wins()
    {
        string bucket = NewBucket();
        var nodes = new List<JetStreamLease>();
        for (int i = 0; i < 4; i++)
            nodes.Add(await NodeAsync(bucket, $"node-{i}"));
        try
        {
            var won = await Task.WhenAll(nodes.Select(n => Task.Run(() => n.TryAcquireAsync())));
            Assert.Equal(1, won.Count(w => w));
            var holder = nodes[Array.IndexOf(won, true)];
            await holder.ReleaseAsync();
            Assert.False(holder.IsHeld);
            var next = nodes.First(n => n != holder);
            Assert.True(await next.TryAcquireAsync()); // no wait for the lease to run out
            Assert.False(await holder.TryAcquireAsync());
        }
        finally
        {
            foreach (var node in nodes)
                await node.DisposeAsync();
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_started_lease_renews_itself()
    {
        string bucket = NewBucket();
        await using var a = await NodeAsync(bucket, "node-a");
        await using var b = await NodeAsync(bucket, "node-b");
        var held = new TaskCompletionSource();
        a.Changed += h => { if (h) held.TrySetResult(); };
        a.Start();
        await held.Task.WaitAsync(TimeSpan.FromSeconds(20)); // hang detector, not a timing
        await Task.Delay(Lease * 2); // two leases: without renewals b would get in
        Assert.False(await b.TryAcquireAsync());
        Assert.True(a.IsHeld);
    }
}
