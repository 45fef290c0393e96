using System.Text;
using Runnel.Client.Aggregation;

namespace Runnel.Client.Tests.Aggregation;

/// <summary>User records for the aggregation tests: the reference fixture's, and random ones from a seeded Random.</summary>
internal static class AggregationSamples
{
    /// <summary>The fixture's bytes: one aggregate made by npm aws-kinesis-agg (tests/Runnel.Firehose.Tests/Fixtures/make-kpl-aggregate.js).</summary>
    public static byte[] ReferenceAggregate() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "kpl-aggregate.bin"));

    /// <summary>The user records of the fixture, in order.</summary>
    public static List<UserRecord> ReferenceRecords()
    {
        var records = new List<UserRecord>();
        for (int i = 0; i < 5; i++)
            records.Add(new UserRecord($"pk-{i % 2}", Encoding.UTF8.GetBytes($"{{\"user\":{i},\"msg\":\"hello {i}\"}}\n")));
        records.Add(new UserRecord("pk-x", "12345", Encoding.UTF8.GetBytes("raw bytes\n")));
        return records;
    }

    private static readonly string[] Alphabets =
    [
        "abcdefghijklmnopqrstuvwxyz0123456789-_",
        "éèàüßøœ中文字符キーκλειδί",
        "😀🚀🦀", // surrogate pairs: 4 UTF-8 bytes for 2 chars
    ];

    /// <summary>A partition key of 1 to <paramref name="maxLength"/> characters, ASCII or not.</summary>
    public static string PartitionKey(Random random, int maxLength = RecordAggregator.MaxPartitionKeyLength)
    {
        var key = new StringBuilder();
        int length = random.Next(1, maxLength + 1);
        while (key.Length < length)
        {
            string alphabet = Alphabets[random.Next(Alphabets.Length)];
            if (char.IsHighSurrogate(alphabet[0]))
            {
                if (key.Length + 2 > length)
                    break;
                int pair = random.Next(alphabet.Length / 2) * 2;
                key.Append(alphabet, pair, 2);
            }
            else
            {
                key.Append(alphabet[random.Next(alphabet.Length)]);
            }
        }
        return key.Length == 0 ? "k" : key.ToString();
    }

    /// <summary>A random hash key, the ends of the space often.</summary>
    public static UInt128 HashKey(Random random) => random.Next(10) switch
    {
        0 => UInt128.Zero,
        1 => UInt128.MaxValue,
        _ => new UInt128((ulong)random.NextInt64() ^ ((ulong)random.Next() << 40), (ulong)random.NextInt64() ^ ((ulong)random.Next() << 33)),
    };

    /// <summary>
    /// Random user records: keys drawn from a small pool (so tables dedup) or fresh, an explicit hash key now and
    /// then, data empty, small, around the varint boundaries, or (when <paramref name="largeBytes"/> is above 0) large.
    /// </summary>
    public static List<UserRecord> Records(Random random, int count, int keyPool = 20, int largeBytes = 0)
    {
        var pool = Enumerable.Range(0, keyPool).Select(_ => PartitionKey(random, 40)).ToArray();
        var hashKeyPool = Enumerable.Range(0, Math.Max(1, keyPool / 4)).Select(_ => HashKeys.Format(HashKey(random))).ToArray();
        var records = new List<UserRecord>(count);
        for (int i = 0; i < count; i++)
        {
            string key = random.Next(4) == 0 ? PartitionKey(random) : pool[random.Next(pool.Length)];
            string? hashKey = random.Next(5) switch
            {
                0 => hashKeyPool[random.Next(hashKeyPool.Length)],
                1 => HashKeys.Format(HashKey(random)),
                _ => null,
            };
            int length = random.Next(12) switch
            {
                0 => 0,
                1 => random.Next(126, 130),
                2 => random.Next(16_382, 16_386),
                3 when largeBytes > 0 => random.Next(largeBytes / 2, largeBytes),
                _ => random.Next(1, 200),
            };
            var data = new byte[length];
            random.NextBytes(data);
            records.Add(new UserRecord(key, hashKey, data));
        }
        return records;
    }

    public static void AssertSame(UserRecord expected, string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data, string context)
    {
        Assert.True(expected.PartitionKey == partitionKey, $"{context}: partition key '{partitionKey}', expected '{expected.PartitionKey}'");
        Assert.True(expected.ExplicitHashKey == explicitHashKey, $"{context}: explicit hash key '{explicitHashKey}', expected '{expected.ExplicitHashKey}'");
        Assert.True(expected.Data.Span.SequenceEqual(data.Span), $"{context}: data of {data.Length} bytes differs from the {expected.Data.Length} expected");
    }
}
