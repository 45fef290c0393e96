using System.Security.Cryptography;
using System.Text;
using Runnel.Client.Aggregation;

namespace Runnel.Client.Tests.Aggregation;

public sealed class KplFormatTests
{
    [Fact(Timeout = 10000)]
    public async Task The_reference_aggregate_deaggregates_into_its_six_user_records()
    {
        await Task.Yield();
        var records = Deaggregator.Deaggregate(AggregationSamples.ReferenceAggregate(), "pk-0", "49590338271490256608559692538361571095921575989136588898");
        var expected = AggregationSamples.ReferenceRecords();
        Assert.Equal(6, records.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            AggregationSamples.AssertSame(expected[i], records[i].PartitionKey, records[i].ExplicitHashKey, records[i].Data, $"user record {i}");
            Assert.Equal(i, records[i].SubSequenceNumber);
            Assert.True(records[i].IsAggregated);
            Assert.Equal("49590338271490256608559692538361571095921575989136588898", records[i].SequenceNumber);
        }
        Assert.Equal("{\"user\":3,\"msg\":\"hello 3\"}\n", Encoding.UTF8.GetString(records[3].Data.Span));
    }

    [Fact(Timeout = 10000)]
    public async Task The_same_user_records_aggregate_into_the_reference_bytes()
    {
        // aws-kinesis-agg writes the tables in first-met order, before the records, and each Record's fields in number
        // order, as this encoder does: the bytes are the same, checksum included.
        await Task.Yield();
        byte[] reference = AggregationSamples.ReferenceAggregate();
        Assert.Equal(reference, KplFormat.Encode(AggregationSamples.ReferenceRecords()));
        Assert.Equal(reference.Length, KplFormat.EncodedLength(AggregationSamples.ReferenceRecords()));

        var aggregator = new RecordAggregator();
        foreach (var record in AggregationSamples.ReferenceRecords())
            Assert.True(aggregator.TryAdd(record));
        var entry = aggregator.ToEntry();
        Assert.Equal(reference, entry.Data.ToArray());
        Assert.Equal("pk-0", entry.PartitionKey);
        Assert.Equal("318996840767547934070577442296912359277", entry.ExplicitHashKey); // MD5("pk-0"), the first record's hash key
        Assert.Equal(reference.Length + 4, entry.RequestBytes);
        Assert.Equal(entry.RequestBytes, aggregator.RequestBytes);
    }

    [Fact(Timeout = 10000)]
    public async Task A_bad_checksum_a_wrong_magic_or_a_short_record_is_returned_whole()
    {
        await Task.Yield();
        byte[] reference = AggregationSamples.ReferenceAggregate();
        var damaged = new List<(string Why, byte[] Data)>
        {
            ("empty", []),
            ("the magic alone", KplFormat.Magic.ToArray()),
            ("the magic and a checksum of nothing", [.. KplFormat.Magic, .. MD5.HashData(Array.Empty<byte>())]), // the KCL's length test
            ("plain text", Encoding.UTF8.GetBytes("{\"not\":\"an aggregate\"}")),
        };
        for (int i = 0; i < KplFormat.Magic.Length; i++)
        {
            byte[] wrongMagic = (byte[])reference.Clone();
            wrongMagic[i] ^= 0x01;
            damaged.Add(($"magic byte {i} changed", wrongMagic));
        }
        for (int i = reference.Length - KplFormat.ChecksumLength; i < reference.Length; i++)
        {
            byte[] badChecksum = (byte[])reference.Clone();
            badChecksum[i] ^= 0x80;
            damaged.Add(($"checksum byte {i} changed", badChecksum));
        }
        for (int i = KplFormat.Magic.Length; i < reference.Length - KplFormat.ChecksumLength; i++)
        {
            byte[] changed = (byte[])reference.Clone();
            changed[i] ^= 0x20; // the checksum no longer matches
            damaged.Add(($"message byte {i} changed", changed));
        }
        for (int length = 0; length < reference.Length; length++)
            damaged.Add(($"cut to {length} bytes", reference[..length]));

        foreach (var (why, data) in damaged)
            AssertWhole(data, why);
    }

    [Fact(Timeout = 10000)]
    public async Task A_message_that_does_not_decode_under_a_matching_checksum_is_returned_whole()
    {
        await Task.Yield();
        byte[] message = AggregationSamples.ReferenceAggregate()[KplFormat.Magic.Length..^KplFormat.ChecksumLength];
        var undecodable = new List<(string Why, byte[] Message)>();
        for (int length = 1; length < message.Length; length++)
        {
            if (!KplFormat.TryDecode(Sealed(message[..length]), out _))
                undecodable.Add(($"protobuf cut to {length} bytes", message[..length]));
        }
        Assert.True(undecodable.Count > message.Length / 2, "most cuts fall inside a field");
        undecodable.Add(("a partition key index past the table", [0x0A, 0x01, (byte)'a', 0x1A, 0x04, 0x08, 0x05, 0x1A, 0x00]));
        undecodable.Add(("an explicit hash key index past the table", [0x0A, 0x01, (byte)'a', 0x1A, 0x06, 0x08, 0x00, 0x10, 0x00, 0x1A, 0x00]));
        undecodable.Add(("a record without its required data", [0x0A, 0x01, (byte)'a', 0x1A, 0x02, 0x08, 0x00]));
        undecodable.Add(("a record without its required partition key index", [0x0A, 0x01, (byte)'a', 0x1A, 0x02, 0x1A, 0x00]));
        undecodable.Add(("a length past the end", [0x0A, 0x7F, (byte)'a']));
        undecodable.Add(("a varint of eleven bytes", [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]));
        undecodable.Add(("field number 0", [0x02, 0x00]));
        undecodable.Add(("a group (obsolete wire type 3)", [0x0B, 0x0C]));
        undecodable.Add(("wire type 7", [0x0F]));
        foreach (var (why, bytes) in undecodable)
            AssertWhole(Sealed(bytes), why);
    }

    [Fact(Timeout = 10000)]
    public async Task Unknown_fields_tags_and_fields_in_any_order_decode_as_protobuf_does()
    {
        await Task.Yield();
        byte[] message =
        [
            0x1A, 0x0F, 0x22, 0x05, 0x0A, 0x01, (byte)'k', 0x12, 0x00, // a Record: a Tag (field 4) first, skipped,
                        0x1A, 0x02, (byte)'h', (byte)'i', 0x08, 0x01, 0x10, 0x00, //   then data, then the indexes
            0x0A, 0x02, (byte)'p', (byte)'0', // the partition-key table after the record that uses it
            0x0A, 0x02, (byte)'p', (byte)'1',
            0x28, 0x96, 0x01, // an unknown varint field (5)
            0x31, 1, 2, 3, 4, 5, 6, 7, 8, // an unknown fixed64 field (6)
            0x3D, 1, 2, 3, 4, // an unknown fixed32 field (7)
            0x12, 0x01, (byte)'7', // the explicit-hash-key table last
            0x08, 0x00, // a known number with a wire type it does not have (varint for the table): an unknown field
        ];
        Assert.True(KplFormat.TryDecode(Sealed(message), out var records));
        var record = Assert.Single(records);
        AggregationSamples.AssertSame(new UserRecord("p1", "7", "hi"u8.ToArray()), record.PartitionKey, record.ExplicitHashKey, record.Data, "the record");
    }

    [Fact(Timeout = 10000)]
    public async Task An_aggregate_of_no_user_records_gives_none()
    {
        // As the KCL: a record with the magic, a matching checksum and a message that decodes is an aggregate, even of nothing.
        await Task.Yield();
        var records = Deaggregator.Deaggregate(Sealed([0x0A, 0x01, (byte)'a']), "pk", "1");
        Assert.Empty(records);
    }

    [Fact(Timeout = 30000)]
    public async Task Random_bytes_under_a_matching_checksum_never_throw()
    {
        await Task.Yield();
        var random = new Random(19);
        byte[] reference = AggregationSamples.ReferenceAggregate()[KplFormat.Magic.Length..^KplFormat.ChecksumLength];
        for (int i = 0; i < 20_000; i++)
        {
            byte[] message;
            if (i % 2 == 0)
            {
                message = new byte[random.Next(1, 64)];
                random.NextBytes(message);
            }
            else
            {
                message = (byte[])reference.Clone(); // a valid message with a few bytes changed: deeper into the decoder
                for (int j = random.Next(1, 4); j > 0; j--)
                    message[random.Next(message.Length)] = (byte)random.Next(256);
            }
            byte[] data = Sealed(message);
            var records = Deaggregator.Deaggregate(data, "pk", "7", HashRange.All);
            if (records is [{ IsAggregated: false } whole])
                Assert.Equal(data, whole.Data.ToArray());
            else
                Assert.All(records, r => Assert.True(r.IsAggregated));
        }
    }

    /// <summary>A message with the magic before it and its MD5 after it.</summary>
    private static byte[] Sealed(byte[] message) => [.. KplFormat.Magic, .. message, .. MD5.HashData(message)];

    private static void AssertWhole(byte[] data, string why)
    {
        Assert.False(KplFormat.TryDecode(data, out _), why);
        var records = Deaggregator.Deaggregate(data, "the-key", "42", HashRange.All);
        var record = Assert.Single(records);
        Assert.False(record.IsAggregated, why);
        Assert.Equal("the-key", record.PartitionKey);
        Assert.Null(record.ExplicitHashKey);
        Assert.Equal(0, record.SubSequenceNumber);
        Assert.Equal("42", record.SequenceNumber);
        Assert.True(data.AsSpan().SequenceEqual(record.Data.Span), why);
    }
}
