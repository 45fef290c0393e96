using System.Formats.Cbor;
using Runnel.Bench.Kinesis;

namespace Runnel.Bench.Tests;

/// <summary>
/// The load generator reads CBOR GetRecords answers by hopping over length prefixes (<see cref="CborPage"/>); it
/// must count the same records and find the same iterator as a full decoder for any encoding a server may choose:
/// definite or indefinite lengths, chunked strings, tags, floats, nested members it does not know.
/// </summary>
public class CborPageTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(4, true)]
    public void Counts_records_and_reads_the_iterator_whatever_the_encoding(int seed, bool indefinite)
    {
        var random = new Random(seed);
        for (int page = 0; page < 50; page++)
        {
            int records = random.Next(0, 40);
            string? next = random.Next(4) == 0 ? null : "AAAA" + new string('x', random.Next(0, 300));
            long behind = random.Next(3) == 0 ? 0 : random.NextInt64(1, 1L << 40);
            byte[] body = Page(random, indefinite, records, next, behind);

            var read = CborPage.Read(body);

            Assert.Equal(records, read.Count);
            Assert.Equal(next, read.NextShardIterator);
            Assert.Equal(behind, read.MillisBehindLatest);
        }
    }

    [Fact]
    public void A_page_cut_anywhere_is_malformed_not_misread()
    {
        var random = new Random(7);
        byte[] body = Page(random, indefinite: true, records: 5, next: "iterator", behind: 12);
        for (int cut = 0; cut < body.Length; cut++)
            Assert.Throws<FormatException>(() => CborPage.Read(body.AsSpan(0, cut)));
    }

    [Fact]
    public void An_answer_that_is_not_a_map_is_malformed()
    {
        var w = new CborWriter();
        w.WriteStartArray(0);
        w.WriteEndArray();
        Assert.Throws<FormatException>(() => CborPage.Read(w.Encode()));
    }

    private static byte[] Page(Random random, bool indefinite, int records, string? next, long behind)
    {
        var w = new CborWriter(CborConformanceMode.Lax, convertIndefiniteLengthEncodings: false);
        w.WriteStartMap(indefinite ? null : 4);
        w.WriteTextString("Records");
        w.WriteStartArray(indefinite ? null : records);
        for (int i = 0; i < records; i++)
            Record(w, random, indefinite);
        w.WriteEndArray();
        w.WriteTextString("ChildShards"); // a member the reader does not know, with nesting
        w.WriteStartArray(1);
        w.WriteStartMap(2);
        w.WriteTextString("ParentShards");
        w.WriteStartArray(2);
        w.WriteTextString("shardId-000000000000");
        w.WriteTextString("shardId-000000000001");
        w.WriteEndArray();
        w.WriteTextString("HashKeyRange");
        w.WriteStartMap(1);
        w.WriteTextString("StartingHashKey");
        w.WriteTextString("0");
        w.WriteEndMap();
        w.WriteEndMap();
        w.WriteEndArray();
        w.WriteTextString("NextShardIterator");
        if (next is null)
            w.WriteNull();
        else
            w.WriteTextString(next);
        w.WriteTextString("MillisBehindLatest");
        w.WriteInt64(behind);
        w.WriteEndMap();
        return w.Encode();
    }

    private static void Record(CborWriter w, Random random, bool indefinite)
    {
        w.WriteStartMap(indefinite ? null : 5);
        w.WriteTextString("SequenceNumber");
        w.WriteTextString(random.NextInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteTextString("ApproximateArrivalTimestamp");
        w.WriteTag(CborTag.UnixTimeSeconds);
        if (random.Next(2) == 0)
            w.WriteDouble(1_700_000_000.123 + random.NextDouble());
        else
            w.WriteInt64(1_700_000_000 + random.Next(1000));
        w.WriteTextString("Data");
        byte[] data = new byte[random.Next(0, random.Next(2) == 0 ? 30 : 70_000)];
        random.NextBytes(data);
        if (indefinite && data.Length > 10)
        {
            w.WriteStartIndefiniteLengthByteString();
            w.WriteByteString(data.AsSpan(0, 10));
            w.WriteByteString(data.AsSpan(10));
            w.WriteEndIndefiniteLengthByteString();
        }
        else
        {
            w.WriteByteString(data);
        }
        w.WriteTextString("PartitionKey");
        w.WriteTextString("key-" + random.Next());
        w.WriteTextString("Extra");
        switch (random.Next(4))
        {
            case 0: w.WriteBoolean(true); break;
            case 1: w.WriteInt64(-random.NextInt64(1, long.MaxValue)); break;
            case 2: w.WriteSingle(1.5f); break;
            default: w.WriteHalf((Half)2); break;
        }
        w.WriteEndMap();
    }
}
