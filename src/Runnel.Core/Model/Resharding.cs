namespace Runnel.Core.Model;

/// <summary>What a reshard does to a stream: open shards it closes and shards it creates (in creation order).</summary>
public sealed record ReshardPlan(IReadOnlyList<int> Close, IReadOnlyList<ShardInfo> Create);

/// <summary>
/// The hash-range arithmetic and lineage of SplitShard, MergeShards and UpdateShardCount, as pure
/// functions of a stream's shards. Callers check AWS's preconditions (state, limits, adjacency) first.
/// Every plan keeps the open shards tiling 0..2^128-1 with no gap or overlap, gives new shards indexes
/// above every existing one (so their sequence numbers sort above their parents'), and gives each new
/// shard at most two parents, as the Kinesis lineage model allows.
/// </summary>
public static class Resharding
{
    /// <summary>
    /// The stream after the plan: closed shards get their end offset (from <paramref name="endOffsetOf"/>,
    /// which closes their logs) and close time, new shards are appended, the epoch advances.
    /// </summary>
    public static StreamInfo Apply(StreamInfo stream, ReshardPlan plan, Func<ShardInfo, ulong> endOffsetOf, DateTimeOffset now)
    {
        var shards = stream.Shards
            .Select(s => plan.Close.Contains(s.Index) ? s with { EndOffset = endOffsetOf(s), ClosedAt = now } : s)
            .Concat(plan.Create)
            .ToList();
        return stream with { Shards = shards, Epoch = stream.Epoch + 1 };
    }

    /// <summary>
    /// A plan made earlier, as it takes effect at <paramref name="now"/> (a reshard applied when its stream returns
    /// to ACTIVE): its shards are created, and the ones it retires at once closed, now; their shard time is raised
    /// again above their parents' (<see cref="Child"/>).
    /// </summary>
    public static ReshardPlan At(ReshardPlan plan, StreamInfo stream, DateTimeOffset now)
    {
        var made = new Dictionary<int, ShardInfo>();
        long? SecondsOf(int? index) => index is not { } i ? null : (made.TryGetValue(i, out var m) ? m : stream.FindShard(i))?.SequenceSeconds;
        var create = new List<ShardInfo>(plan.Create.Count);
        foreach (var shard in plan.Create)
        {
            var stamped = shard with
            {
                CreatedAt = now,
                ClosedAt = shard.ClosedAt is null ? null : now,
                SequenceSeconds = SequenceSecondsOf(now.ToUnixTimeSeconds(), SecondsOf(shard.ParentIndex), SecondsOf(shard.AdjacentParentIndex)),
            };
            made[shard.Index] = stamped;
            create.Add(stamped);
        }
        return plan with { Create = create };
    }

    public static int NextIndex(IReadOnlyList<ShardInfo> shards) => shards.Count == 0 ? 0 : shards.Max(s => s.Index) + 1;

    /// <summary>
    /// A shard made by a reshard. Its sequence numbers encode its creation second, raised to one above its
    /// parents' when a reshard comes within the second that made them: every child sequence number must sort
    /// above every parent one, and the shard time is their most significant field.
    /// </summary>
    private static ShardInfo Child(int index, HashKeyRange range, long epoch, ShardInfo parent, ShardInfo? adjacent, DateTimeOffset now) =>
        new(index, range, epoch, parent.Index, adjacent?.Index, null, now, null)
        {
            SequenceSeconds = SequenceSecondsOf(now.ToUnixTimeSeconds(), parent.SequenceSeconds, adjacent?.SequenceSeconds),
        };

    /// <summary>
    /// The one rule for a shard's sequence-number time: its creation second, raised to one above its parents'
    /// (for new shards, pending plans as they take effect, and shards stored before metadata schema 4).
    /// </summary>
    public static long SequenceSecondsOf(long createdSeconds, long? parentSeconds, long? adjacentSeconds) =>
        Math.Max(createdSeconds, Math.Max(parentSeconds ?? long.MinValue, adjacentSeconds ?? long.MinValue) + 1);

    /// <summary>Splits <paramref name="parent"/> so that the second child starts at <paramref name="newStartingHashKey"/>.</summary>
    public static ReshardPlan Split(StreamInfo stream, ShardInfo parent, UInt128 newStartingHashKey, DateTimeOffset now)
    {
        int next = NextIndex(stream.Shards);
        long epoch = stream.Epoch + 1;
        return new ReshardPlan(
            [parent.Index],
            [
                Child(next, new HashKeyRange(parent.HashKeyRange.Start, newStartingHashKey - 1), epoch, parent, null, now),
                Child(next + 1, new HashKeyRange(newStartingHashKey, parent.HashKeyRange.End), epoch, parent, null, now),
            ]);
    }

    /// <summary>True when the two ranges touch end to start, in either order.</summary>
    public static bool AreAdjacent(HashKeyRange a, HashKeyRange b) =>
        (a.End != UInt128.MaxValue && a.End + 1 == b.Start) || (b.End != UInt128.MaxValue && b.End + 1 == a.Start);

    /// <summary>Merges two adjacent shards; the child's parent is <paramref name="shard"/>, its adjacent parent the other.</summary>
    public static ReshardPlan Merge(StreamInfo stream, ShardInfo shard, ShardInfo adjacent, DateTimeOffset now)
    {
        var range = new HashKeyRange(UInt128.Min(shard.HashKeyRange.Start, adjacent.HashKeyRange.Start), UInt128.Max(shard.HashKeyRange.End, adjacent.HashKeyRange.End));
        return new ReshardPlan(
            [shard.Index, adjacent.Index],
            [Child(NextIndex(stream.Shards), range, stream.Epoch + 1, shard, adjacent, now)]);
    }

    /// <summary>
    /// UNIFORM_SCALING to <paramref name="target"/> open shards of equal width, as a sequence of splits and
    /// merges (as AWS performs it): each open shard is first split at the target boundaries inside it, then
    /// the pieces of each target range are merged pairwise from the left. Shards made only to be split or
    /// merged again are created closed and empty. A target range that is already an open shard is kept.
    /// </summary>
    public static ReshardPlan UniformScale(StreamInfo stream, int target, DateTimeOffset now)
    {
        var open = stream.OpenShards.OrderBy(s => s.HashKeyRange.Start).ToList();
        var targets = HashKeyRange.SplitEvenly(target);
        int next = NextIndex(stream.Shards);
        long epoch = stream.Epoch + 1;
        var close = new List<int>();
        var create = new List<ShardInfo>();

        ShardInfo New(HashKeyRange range, ShardInfo parent, ShardInfo? adjacent) => Child(next++, range, epoch, parent, adjacent, now);

        void Retire(ShardInfo intermediate)
        {
            // Created and closed in the same reshard: it never takes a record.
            int i = create.FindIndex(s => s.Index == intermediate.Index);
            create[i] = intermediate with { EndOffset = 0, ClosedAt = now };
        }

        var pieces = new List<ShardInfo>(); // after the splits: shards whose ranges align with target boundaries
        foreach (var shard in open)
        {
            var cuts = targets.Skip(1).Select(t => t.Start).Where(b => b > shard.HashKeyRange.Start && b <= shard.HashKeyRange.End).OrderBy(b => b).ToList();
            if (cuts.Count == 0)
            {
                pieces.Add(shard);
                continue;
            }
            close.Add(shard.Index);
            var remainder = shard;
            foreach (var cut in cuts)
            {
                var left = New(new HashKeyRange(remainder.HashKeyRange.Start, cut - 1), remainder, null);
                var right = New(new HashKeyRange(cut, remainder.HashKeyRange.End), remainder, null);
                create.Add(left);
                create.Add(right);
                if (remainder.Index != shard.Index)
                    Retire(remainder);
                pieces.Add(left);
                remainder = right;
            }
            pieces.Add(remainder);
        }

        foreach (var range in targets)
        {
            var parts = pieces.Where(p => p.HashKeyRange.Start >= range.Start && p.HashKeyRange.End <= range.End).OrderBy(p => p.HashKeyRange.Start).ToList();
            var merged = parts[0];
            for (int i = 1; i < parts.Count; i++)
            {
                var child = New(new HashKeyRange(merged.HashKeyRange.Start, parts[i].HashKeyRange.End), merged, parts[i]);
                create.Add(child);
                foreach (var parent in new[] { merged, parts[i] })
                {
                    if (create.Any(s => s.Index == parent.Index))
                        Retire(parent);
                    else
                        close.Add(parent.Index);
                }
                merged = child;
            }
        }
        return new ReshardPlan(close.Distinct().ToList(), create);
    }
}
