using System.Numerics;
using Runnel.Core.Model;

namespace Runnel.Core.Tests;

public class ReshardingTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static StreamInfo Stream(int shards)
    {
        var ranges = HashKeyRange.SplitEvenly(shards);
        return new StreamInfo("s", 1, StreamStatus.Active, StreamMode.Provisioned, 24, Now, null,
            ranges.Select((r, i) => new ShardInfo(i, r, 0, null, null, null, Now, null)).ToList(),
            new Dictionary<string, string>(), [], 0);
    }

    private static StreamInfo Apply(StreamInfo stream, ReshardPlan plan) => Resharding.Apply(stream, plan, _ => 0, Now);

    /// <summary>The open shards cover 0..2^128-1 exactly once; lineage refers to existing shards.</summary>
    private static void AssertWellFormed(StreamInfo stream)
    {
        var open = stream.OpenShards.OrderBy(s => s.HashKeyRange.Start).ToList();
        Assert.Equal(UInt128.Zero, open[0].HashKeyRange.Start);
        Assert.Equal(UInt128.MaxValue, open[^1].HashKeyRange.End);
        for (int i = 1; i < open.Count; i++)
            Assert.Equal(open[i - 1].HashKeyRange.End + 1, open[i].HashKeyRange.Start);
        var indexes = stream.Shards.Select(s => s.Index).ToList();
        Assert.Equal(indexes.Count, indexes.Distinct().Count());
        foreach (var shard in stream.Shards)
        {
            Assert.True(shard.HashKeyRange.Start <= shard.HashKeyRange.End);
            foreach (var parent in new[] { shard.ParentIndex, shard.AdjacentParentIndex }.Where(p => p is not null))
            {
                var p = stream.FindShard(parent!.Value)!;
                Assert.False(p.IsOpen, $"parent {p.ShardId} of {shard.ShardId} is closed");
                Assert.True(p.Index < shard.Index, "children have larger indexes than their parents");
                Assert.True(p.HashKeyRange.Start <= shard.HashKeyRange.End && shard.HashKeyRange.Start <= p.HashKeyRange.End, "parents overlap their child");
            }
        }
        // Every closed shard's range is covered by its children: no key loses its successor.
        foreach (var closed in stream.Shards.Where(s => !s.IsOpen))
        {
            var children = stream.Shards.Where(c => c.ParentIndex == closed.Index || c.AdjacentParentIndex == closed.Index)
                .OrderBy(c => c.HashKeyRange.Start).ToList();
            Assert.NotEmpty(children);
            BigInteger covered = (BigInteger)closed.HashKeyRange.Start; // next key that needs a child
            foreach (var child in children)
            {
                Assert.True((BigInteger)child.HashKeyRange.Start <= covered, $"a gap before {child.ShardId} under {closed.ShardId}");
                covered = BigInteger.Max(covered, (BigInteger)child.HashKeyRange.End + 1);
            }
            Assert.True(covered > (BigInteger)closed.HashKeyRange.End, $"the children of {closed.ShardId} cover its range");
        }
    }

    /// <summary>FindShard finds every shard by its index however the list lies: indexes equal to places, with closed
    /// shards dropped from the front, out of order; and nothing for an index no shard has.</summary>
    [Fact]
    public void FindShard_finds_each_shard_by_index_in_any_list()
    {
        var whole = Stream(40);
        var dropped = whole with { Shards = whole.Shards.Skip(7).Where(s => s.Index % 3 != 0).ToList() };
        var shuffled = whole with { Shards = whole.Shards.OrderBy(s => (s.Index * 17) % 40).ToList() };
        foreach (var stream in new[] { whole, dropped, shuffled })
        {
            foreach (var shard in stream.Shards)
                Assert.Same(shard, stream.FindShard(shard.Index));
            foreach (int missing in Enumerable.Range(-2, 45).Where(i => stream.Shards.All(s => s.Index != i)))
                Assert.Null(stream.FindShard(missing));
        }
        Assert.Equal(40, whole.Shards.Count);
        Assert.Equal(22, dropped.Shards.Count);
    }

    [Fact]
    public void Split_makes_two_children_at_the_new_starting_hash_key()
    {
        var stream = Stream(1);
        var plan = Resharding.Split(stream, stream.Shards[0], UInt128.One << 100, Now);
        var after = Apply(stream, plan);
        AssertWellFormed(after);
        var children = after.OpenShards.ToList();
        Assert.Equal(2, children.Count);
        Assert.Equal((UInt128.One << 100) - 1, children[0].HashKeyRange.End);
        Assert.Equal(UInt128.One << 100, children[1].HashKeyRange.Start);
        Assert.All(children, c => Assert.Equal(0, c.ParentIndex));
        Assert.All(children, c => Assert.Null(c.AdjacentParentIndex));
        Assert.Equal([1, 2], children.Select(c => c.Index));
    }

    [Fact]
    public void Merge_joins_adjacent_shards_in_either_order()
    {
        var stream = Stream(3);
        Assert.True(Resharding.AreAdjacent(stream.Shards[2].HashKeyRange, stream.Shards[1].HashKeyRange));
        Assert.False(Resharding.AreAdjacent(stream.Shards[0].HashKeyRange, stream.Shards[2].HashKeyRange));
        var after = Apply(stream, Resharding.Merge(stream, stream.Shards[2], stream.Shards[1], Now));
        AssertWellFormed(after);
        var child = after.Shards.Single(s => s.Index == 3);
        Assert.Equal(2, child.ParentIndex);
        Assert.Equal(1, child.AdjacentParentIndex);
        Assert.Equal(stream.Shards[1].HashKeyRange.Start, child.HashKeyRange.Start);
        Assert.Equal(UInt128.MaxValue, child.HashKeyRange.End);
    }

    [Fact]
    public void Adjacency_at_the_top_of_the_key_space_does_not_overflow()
    {
        var top = new HashKeyRange(UInt128.MaxValue - 1, UInt128.MaxValue);
        var bottom = new HashKeyRange(UInt128.Zero, UInt128.One);
        Assert.False(Resharding.AreAdjacent(top, bottom));
        Assert.True(Resharding.AreAdjacent(new HashKeyRange(0, 9), new HashKeyRange(10, 20)));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(4, 2)]
    [InlineData(2, 1)]
    [InlineData(3, 5)]
    [InlineData(5, 3)]
    [InlineData(7, 13)]
    [InlineData(13, 7)]
    [InlineData(4, 4)]
    public void Uniform_scaling_reaches_equal_ranges_with_a_valid_lineage(int from, int to)
    {
        var stream = Stream(from);
        var after = Apply(stream, Resharding.UniformScale(stream, to, Now));
        AssertWellFormed(after);
        var open = after.OpenShards.OrderBy(s => s.HashKeyRange.Start).ToList();
        Assert.Equal(to, open.Count);
        Assert.Equal(HashKeyRange.SplitEvenly(to), open.Select(s => s.HashKeyRange));
        if (from == to)
            Assert.Equal(stream.Shards.Select(s => s.Index), open.Select(s => s.Index));
    }

    [Fact]
    public void Scaling_twice_keeps_the_lineage_valid()
    {
        var stream = Stream(2);
        stream = Apply(stream, Resharding.UniformScale(stream, 4, Now));
        stream = Apply(stream, Resharding.UniformScale(stream, 2, Now));
        AssertWellFormed(stream);
        Assert.Equal(2, stream.OpenShards.Count());
        Assert.Equal(2, stream.Epoch);
        Assert.All(stream.OpenShards, s => Assert.NotNull(s.AdjacentParentIndex));
    }
}
