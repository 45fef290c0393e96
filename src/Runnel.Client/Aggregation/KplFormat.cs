using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Runnel.Client.Aggregation;

/// <summary>
/// The Kinesis Producer Library's aggregated record: many user records in one Kinesis record's data, as the KPL, the
/// KCL and aws-kinesis-agg read and write it (the KPL's aggregation-format.md):
/// <code>
/// F3 89 9A C2                       magic
/// AggregatedRecord (protobuf 2)     repeated string partition_key_table = 1;
///                                   repeated string explicit_hash_key_table = 2;
///                                   repeated Record records = 3;
///   Record                          required uint64 partition_key_index = 1;
///                                   optional uint64 explicit_hash_key_index = 2;
///                                   required bytes data = 3;
///                                   repeated Tag tags = 4;   (Tag: required string key = 1; optional string value = 2)
/// MD5 of the protobuf bytes         16 bytes
/// </code>
/// Written here by hand (no protobuf library: the client stays dependency-free and AOT-clean). Tags are never written
/// (the KPL writes none) and are skipped when read. Thread-safe: pure functions.
/// </summary>
public static class KplFormat
{
    /// <summary>The four bytes an aggregate starts with.</summary>
    public static ReadOnlySpan<byte> Magic => [0xF3, 0x89, 0x9A, 0xC2];

    /// <summary>The length of the trailing MD5 checksum.</summary>
    public const int ChecksumLength = 16;

    /// <summary>The bytes an aggregate adds to its protobuf message: the magic and the checksum.</summary>
    public const int Overhead = 4 + ChecksumLength;

    /// <summary>The length of the aggregate of <paramref name="records"/> as <see cref="Encode"/> writes it.</summary>
    public static long EncodedLength(IEnumerable<UserRecord> records) => Overhead + Builder(records).Length;

    /// <summary>
    /// <paramref name="records"/> as one aggregate, whatever their number (a producer sends a lone record as it is:
    /// see <see cref="RecordAggregator"/>). Each distinct partition key and explicit hash key is written once.
    /// </summary>
    /// <exception cref="ArgumentException">The aggregate would be larger than an array can hold.</exception>
    public static byte[] Encode(IEnumerable<UserRecord> records) => EncodeBuilt(Builder(records));

    internal static byte[] EncodeBuilt(AggregatedRecordBuilder builder)
    {
        var bytes = new byte[EncodedLength(builder)];
        EncodeBuilt(builder, bytes);
        return bytes;
    }

    /// <summary>The length <see cref="EncodeBuilt(AggregatedRecordBuilder, Span{byte})"/> writes.</summary>
    internal static int EncodedLength(AggregatedRecordBuilder builder) =>
        builder.Length <= Array.MaxLength - Overhead
            ? (int)(Overhead + builder.Length)
            : throw new ArgumentException($"An aggregate of {builder.Length} bytes is larger than an array can hold.");

    /// <summary>Writes the aggregate into the start of <paramref name="destination"/> (at least <see cref="EncodedLength(AggregatedRecordBuilder)"/> bytes); returns its length.</summary>
    internal static int EncodeBuilt(AggregatedRecordBuilder builder, Span<byte> destination)
    {
        int length = EncodedLength(builder);
        Magic.CopyTo(destination);
        var message = destination.Slice(Magic.Length, (int)builder.Length);
        int written = builder.WriteTo(message);
        System.Diagnostics.Debug.Assert(written == message.Length, "the predicted length is the written length");
        MD5.HashData(message, destination.Slice(Magic.Length + message.Length, ChecksumLength));
        return length;
    }

    /// <summary>
    /// The user records of an aggregate, in order; false when <paramref name="data"/> is not one: without the magic,
    /// no longer than the magic and checksum (the KCL's test), with a checksum that does not match, or with a message
    /// that does not decode (a malformed field, a required field missing, a key index past its table). The records'
    /// <see cref="UserRecord.Data"/> are slices of <paramref name="data"/>. Never throws on any input.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> data, [NotNullWhen(true)] out IReadOnlyList<UserRecord>? records)
    {
        records = null;
        var decoded = new List<DecodedRecord>();
        if (!TryDecodeInto(data, decoded))
            return false;
        records = decoded.ConvertAll(d => new UserRecord(d.PartitionKey, d.ExplicitHashKey, d.Data));
        return true;
    }

    /// <summary>
    /// <see cref="TryDecode"/> into <paramref name="into"/> (added to; nothing added when false), without an object per
    /// record: a consumer makes its own. Records of one partition key share one string instance (the table's).
    /// </summary>
    internal static bool TryDecodeInto(ReadOnlyMemory<byte> data, List<DecodedRecord> into)
    {
        var span = data.Span;
        if (span.Length <= Overhead || !span.StartsWith(Magic))
            return false;
        var message = data[Magic.Length..^ChecksumLength];
        Span<byte> checksum = stackalloc byte[ChecksumLength];
        MD5.HashData(message.Span, checksum);
        return checksum.SequenceEqual(span[^ChecksumLength..]) && TryDecodeMessage(message, into);
    }

    /// <summary>A user record decoded from an aggregate: its keys (the tables' strings) and its data (a slice of the aggregate).</summary>
    internal readonly record struct DecodedRecord(string PartitionKey, string? ExplicitHashKey, ReadOnlyMemory<byte> Data);

    private static AggregatedRecordBuilder Builder(IEnumerable<UserRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var builder = new AggregatedRecordBuilder();
        foreach (var record in records)
        {
            ArgumentNullException.ThrowIfNull(record, nameof(records));
            builder.Add(record);
        }
        return builder;
    }

    /// <summary>Decodes an <c>AggregatedRecord</c> message; false when it is not one. Fields may come in any order, as protobuf allows.</summary>
    internal static bool TryDecodeMessage(ReadOnlyMemory<byte> message, List<DecodedRecord> into)
    {
        var span = message.Span;
        var partitionKeys = new List<string>();
        var explicitHashKeys = new List<string>();
        var fields = new List<(ulong PartitionKeyIndex, ulong? ExplicitHashKeyIndex, int DataStart, int DataLength)>();
        int at = 0;
        while (at < span.Length)
        {
            if (!ProtobufWire.TryReadVarint(span, ref at, out ulong tag) || tag >> 3 == 0 || tag >> 3 > int.MaxValue)
                return false;
            int field = (int)(tag >> 3), wireType = (int)(tag & 7);
            if (wireType != ProtobufWire.WireLengthDelimited || field is < AggregatedRecordBuilder.PartitionKeyTableField or > AggregatedRecordBuilder.RecordsField)
            {
                // An unknown field (or a known number with another wire type, which protobuf takes as unknown): skipped.
                if (!ProtobufWire.TrySkip(span, ref at, wireType))
                    return false;
                continue;
            }
            if (!ProtobufWire.TryReadLengthDelimited(span, ref at, out int start, out int length))
                return false;
            switch (field)
            {
                case AggregatedRecordBuilder.PartitionKeyTableField:
                    partitionKeys.Add(Encoding.UTF8.GetString(span.Slice(start, length)));
                    break;
                case AggregatedRecordBuilder.ExplicitHashKeyTableField:
                    explicitHashKeys.Add(Encoding.UTF8.GetString(span.Slice(start, length)));
                    break;
                default:
                    if (!TryDecodeRecord(span.Slice(start, length), start, out var decoded))
                        return false;
                    fields.Add(decoded);
                    break;
            }
        }
        // The KCL fails the whole aggregate on an index past its table; so does this (and returns it whole).
        foreach (var (partitionKeyIndex, explicitHashKeyIndex, _, _) in fields)
            if (partitionKeyIndex >= (ulong)partitionKeys.Count || explicitHashKeyIndex >= (ulong)explicitHashKeys.Count)
                return false;
        into.EnsureCapacity(into.Count + fields.Count);
        foreach (var (partitionKeyIndex, explicitHashKeyIndex, dataStart, dataLength) in fields)
        {
            string? explicitHashKey = explicitHashKeyIndex is { } index ? explicitHashKeys[(int)index] : null;
            into.Add(new DecodedRecord(partitionKeys[(int)partitionKeyIndex], explicitHashKey, message.Slice(dataStart, dataLength)));
        }
        return true;
    }

    /// <summary>Decodes one <c>Record</c> message found at <paramref name="offset"/> of the aggregate's message.</summary>
    private static bool TryDecodeRecord(ReadOnlySpan<byte> span, int offset, out (ulong PartitionKeyIndex, ulong? ExplicitHashKeyIndex, int DataStart, int DataLength) record)
    {
        record = default;
        ulong? partitionKeyIndex = null, explicitHashKeyIndex = null;
        int dataStart = -1, dataLength = 0;
        int at = 0;
        while (at < span.Length)
        {
            if (!ProtobufWire.TryReadVarint(span, ref at, out ulong tag) || tag >> 3 == 0)
                return false;
            ulong field = tag >> 3;
            int wireType = (int)(tag & 7);
            // A field repeated where one is expected: the last one counts, as protobuf decoders do.
            if (field == AggregatedRecordBuilder.PartitionKeyIndexField && wireType == ProtobufWire.WireVarint)
            {
                if (!ProtobufWire.TryReadVarint(span, ref at, out ulong index))
                    return false;
                partitionKeyIndex = index;
            }
            else if (field == AggregatedRecordBuilder.ExplicitHashKeyIndexField && wireType == ProtobufWire.WireVarint)
            {
                if (!ProtobufWire.TryReadVarint(span, ref at, out ulong index))
                    return false;
                explicitHashKeyIndex = index;
            }
            else if (field == AggregatedRecordBuilder.DataField && wireType == ProtobufWire.WireLengthDelimited)
            {
                if (!ProtobufWire.TryReadLengthDelimited(span, ref at, out dataStart, out dataLength))
                    return false;
            }
            else if (!ProtobufWire.TrySkip(span, ref at, wireType)) // the tags (field 4), and unknown fields
            {
                return false;
            }
        }
        if (partitionKeyIndex is null || dataStart < 0)
            return false; // required fields missing: protobuf 2 refuses the message
        record = (partitionKeyIndex.Value, explicitHashKeyIndex, offset + dataStart, dataLength);
        return true;
    }
}
