using Runnel.Client.Leases;

namespace Runnel.Client.Tests.Leases;

/// <summary>
/// The lease taker's decisions, scan by scan: free leases are taken up to the target, held ones only once their
/// counter stood still for the failover time, a new worker steals from the busiest one towards an even share, and
/// workers that follow it end balanced.
/// </summary>
public sealed class LeaseTakerTests
{
    private static readonly TimeSpan Failover = TimeSpan.FromSeconds(10);

    private static Lease L(string key, string? owner, long counter = 1, string checkpoint = "TRIM_HORIZON") =>
        new() { LeaseKey = key, LeaseOwner = owner, LeaseCounter = counter, Checkpoint = new(checkpoint) };

    [Fact]
    public void A_lone_worker_takes_every_free_lease_and_none_that_is_finished()
    {
        var taker = new LeaseTaker("w1", Failover);
        var leases = new[] { L("s0", null), L("s1", null), L("s2", null), L("s3", null, checkpoint: "SHARD_END") };
        var taken = taker.Choose(leases, TimeSpan.Zero, new Random(1));
        Assert.Equal(["s0", "s1", "s2"], taken.Select(l => l.LeaseKey).Order());
    }

    [Fact]
    public void Two_workers_starting_together_each_aim_at_half()
    {
        var taker = new LeaseTaker("w2", Failover);
        // w1 took three of six already; w2 sees it and takes the other three, not more.
        var leases = new[] { L("s0", "w1"), L("s1", "w1"), L("s2", "w1"), L("s3", null), L("s4", null), L("s5", null) };
        var taken = taker.Choose(leases, TimeSpan.Zero, new Random(2));
        Assert.Equal(["s3", "s4", "s5"], taken.Select(l => l.LeaseKey).Order());
        // Seven leases, w1 holding four: w2's target is four; three free ones are all it can take.
        leases = [L("s0", "w1"), L("s1", "w1"), L("s2", "w1"), L("s6", "w1"), L("s3", null), L("s4", null), L("s5", null)];
        Assert.Equal(3, taker.Choose(leases, TimeSpan.Zero, new Random(2)).Count);
    }

    [Fact]
    public void A_held_lease_is_taken_only_after_its_counter_stood_still_for_the_failover_time()
    {
        var taker = new LeaseTaker("w2", Failover);
        // w1 and w3 hold one lease each: with w2, three workers for two leases, a target of one, and nothing to steal.
        var leases = new[] { L("s0", "w1", counter: 5), L("s1", "w3", counter: 5) };
        Assert.Empty(taker.Choose(leases, TimeSpan.FromSeconds(0), new Random(3))); // just seen: counts as renewed
        // w1 renews s0 at 8 s; w3 has stopped: s1 stands still.
        leases = [L("s0", "w1", counter: 6), L("s1", "w3", counter: 5)];
        Assert.Empty(taker.Choose(leases, TimeSpan.FromSeconds(8), new Random(3)));
        // At 11 s s1 has stood still for more than 10 s: available, and w2 takes it as read.
        var taken = Assert.Single(taker.Choose(leases, TimeSpan.FromSeconds(11), new Random(3)));
        Assert.Equal(("s1", 5L, "w3"), (taken.LeaseKey, taken.LeaseCounter, taken.LeaseOwner));
        Assert.True(taker.IsAvailable(leases[1], TimeSpan.FromSeconds(11)));
        Assert.False(taker.IsAvailable(leases[0], TimeSpan.FromSeconds(11)));
    }

    [Fact]
    public void A_new_worker_steals_one_lease_at_a_time_from_the_busiest()
    {
        var taker = new LeaseTaker("w3", Failover);
        // w1 holds four, w2 two: six leases, three workers, target 2. w3 steals from w1 (two over target), one at a time.
        var leases = new[] { L("s0", "w1"), L("s1", "w1"), L("s2", "w1"), L("s3", "w1"), L("s4", "w2"), L("s5", "w2") };
        var stolen = Assert.Single(taker.Choose(leases, TimeSpan.Zero, new Random(4)));
        Assert.Equal("w1", stolen.LeaseOwner);
        // With a larger allowance it takes both it needs from w1 at once.
        var greedy = new LeaseTaker("w3", Failover) { MaxLeasesToStealAtOneTime = 5 };
        Assert.Equal(2, greedy.Choose(leases, TimeSpan.Zero, new Random(4)).Count(l => l.LeaseOwner == "w1"));
    }

    [Fact]
    public void Nothing_is_stolen_from_workers_at_the_target_unless_more_than_one_lease_is_needed()
    {
        // w1 and w2 hold two each of four; w3 arrives: target ceil(4/3) = 2, needs 2 > 1, so it steals one.
        var leases = new[] { L("s0", "w1"), L("s1", "w1"), L("s2", "w2"), L("s3", "w2") };
        Assert.Single(new LeaseTaker("w3", Failover).Choose(leases, TimeSpan.Zero, new Random(5)));
        // w1 holds two, w2 one, w3 one of four: target 2 for w3, needs 1, w1 is at the target: nothing.
        leases = [L("s0", "w1"), L("s1", "w1"), L("s2", "w2"), L("s3", "w3")];
        Assert.Empty(new LeaseTaker("w3", Failover).Choose(leases, TimeSpan.Zero, new Random(5)));
    }

    [Fact]
    public void Workers_that_follow_the_taker_in_turns_end_with_an_even_share_and_every_lease_held()
    {
        var random = new Random(6);
        var workers = new[] { "w1", "w2", "w3" }.Select(w => new LeaseTaker(w, Failover)).ToList();
        var table = Enumerable.Range(0, 10).Select(i => L($"s{i}", null, counter: 0)).ToDictionary(l => l.LeaseKey);
        for (int round = 0; round < 30; round++)
        {
            foreach (var worker in workers)
            {
                var now = TimeSpan.FromSeconds(round);
                foreach (var lease in worker.Choose(table.Values.ToList(), now, random))
                {
                    if (table[lease.LeaseKey].LeaseCounter != lease.LeaseCounter)
                        continue; // the conditional write would fail
                    table[lease.LeaseKey] = lease with { LeaseOwner = worker.WorkerId, LeaseCounter = lease.LeaseCounter + 1 };
                }
                // Holders renew their leases every round.
                foreach (var mine in table.Values.Where(l => l.LeaseOwner == worker.WorkerId).ToList())
                    table[mine.LeaseKey] = mine with { LeaseCounter = mine.LeaseCounter + 1 };
            }
        }
        var counts = table.Values.GroupBy(l => l.LeaseOwner).ToDictionary(g => g.Key!, g => g.Count());
        Assert.Equal(10, counts.Values.Sum());
        Assert.Equal(3, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 3, 4));
    }
}
