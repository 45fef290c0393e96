using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Text;

namespace Runnel.Bench.Scenarios;

/// <summary>What one reader received of what the soak's producers had acknowledged, counted by sequence number.</summary>
/// <param name="Reader">the reader's name ("fan-out soak-0", "poller 1")</param>
/// <param name="Acknowledged">records the producers were told were stored</param>
/// <param name="Read">records the reader received, repeats included</param>
/// <param name="Lost">acknowledged records the reader never received</param>
/// <param name="Duplicates">receptions beyond the first of a record</param>
/// <param name="Unacknowledged">distinct records received that no answer acknowledged (a PutRecords whose answer was lost)</param>
/// <param name="OutOfOrder">receptions whose sequence number was not above the one before it in the same shard</param>
public sealed record ReaderDelivery(string Reader, long Acknowledged, long Read, long Lost, long Duplicates, long Unacknowledged, long OutOfOrder);

/// <summary>
/// Which records the soak's producers had acknowledged and which each reader received, shard by shard, so that
/// at the end every acknowledged record can be looked for at every reader. A sequence number is kept as the
/// 64-bit XxHash3 of its text: 8 bytes per record and reader rather than a 56-digit string, so a 10-minute soak
/// at 2,000 records/s with four readers keeps about 50 MB; two of a million numbers share a hash with odds
/// near 10^-8, which could hide one lost record, never invent one. Order is checked as records arrive, on the
/// text (AWS's sequence numbers increase within a shard). Thread-safe: each shard's list of each reader has
/// its own lock (one writer at a time in practice: a reader reads a shard on one task).
/// </summary>
public sealed class DeliveryLedger
{
    private const string Producers = "";
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, ShardRecords>> _byReader = new(StringComparer.Ordinal);

    /// <summary>Records acknowledged so far, over every shard.</summary>
    public long AcknowledgedCount => Count(Producers);

    /// <summary>Notes a record the server acknowledged at <paramref name="shardId"/> and <paramref name="sequenceNumber"/>.</summary>
    public void Acknowledged(string shardId, string sequenceNumber) => Shard(Producers, shardId).Add(sequenceNumber);

    /// <summary>Notes a record <paramref name="reader"/> received.</summary>
    public void Received(string reader, string shardId, string sequenceNumber) => Shard(reader, shardId).Add(sequenceNumber);

    /// <summary>Records <paramref name="reader"/> received so far, repeats included.</summary>
    public long ReceivedCount(string reader) => Count(reader);

    /// <summary>Whether <paramref name="reader"/> has received as many records of every shard as were acknowledged there.</summary>
    public bool HasCaughtUp(string reader)
    {
        var received = _byReader.GetValueOrDefault(reader);
        return _byReader.GetValueOrDefault(Producers) is not { } acked
            || acked.All(shard => received?.GetValueOrDefault(shard.Key) is { } read && read.Count >= shard.Value.Count);
    }

    /// <summary>Compares what <paramref name="reader"/> received with what was acknowledged. Call once the producers have stopped.</summary>
    public ReaderDelivery Verify(string reader)
    {
        var acked = _byReader.GetValueOrDefault(Producers) ?? new(StringComparer.Ordinal);
        var received = _byReader.GetValueOrDefault(reader) ?? new(StringComparer.Ordinal);
        long acknowledged = 0, read = 0, lost = 0, duplicates = 0, unacknowledged = 0, outOfOrder = 0;
        foreach (string shard in acked.Keys.Union(received.Keys))
        {
            ulong[] expected = acked.GetValueOrDefault(shard)?.Sorted() ?? [];
            var got = received.GetValueOrDefault(shard);
            ulong[] actual = got?.Sorted() ?? [];
            acknowledged += expected.Length;
            read += actual.Length;
            outOfOrder += got?.OutOfOrder ?? 0;
            int e = 0, a = 0;
            while (e < expected.Length || a < actual.Length)
            {
                if (a > 0 && a < actual.Length && actual[a] == actual[a - 1])
                {
                    duplicates++;
                    a++;
                }
                else if (a == actual.Length || (e < expected.Length && expected[e] < actual[a]))
                {
                    lost++;
                    e++;
                }
                else if (e == expected.Length || actual[a] < expected[e])
                {
                    unacknowledged++;
                    a++;
                }
                else
                {
                    e++;
                    a++;
                }
            }
        }
        return new ReaderDelivery(reader, acknowledged, read, lost, duplicates, unacknowledged, outOfOrder);
    }

    private ShardRecords Shard(string reader, string shardId) =>
        _byReader.GetOrAdd(reader, _ => new(StringComparer.Ordinal)).GetOrAdd(shardId, _ => new ShardRecords());

    private long Count(string reader) => _byReader.GetValueOrDefault(reader)?.Values.Sum(s => s.Count) ?? 0;

    /// <summary>One shard's records as one reader (or the producers) saw them, in arrival order.</summary>
    private sealed class ShardRecords
    {
        private readonly Lock _gate = new();
        private readonly List<ulong> _hashes = [];
        private string? _last;

        public long OutOfOrder { get; private set; }

        public long Count
        {
            get
            {
                lock (_gate)
                    return _hashes.Count;
            }
        }

        public void Add(string sequenceNumber)
        {
            ulong hash = XxHash3.HashToUInt64(Encoding.ASCII.GetBytes(sequenceNumber));
            lock (_gate)
            {
                _hashes.Add(hash);
                if (_last is not null && CompareNumbers(sequenceNumber, _last) <= 0)
                    OutOfOrder++;
                _last = sequenceNumber;
            }
        }

        public ulong[] Sorted()
        {
            ulong[] sorted;
            lock (_gate)
                sorted = [.. _hashes];
            Array.Sort(sorted);
            return sorted;
        }

        // Decimal numbers without leading zeros: the longer is the larger, else the text decides.
        private static int CompareNumbers(string a, string b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);
    }
}
