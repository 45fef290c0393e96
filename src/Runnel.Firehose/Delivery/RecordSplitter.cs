using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// Splits a record into the records it carries, in Firehose's order (docs/adr/0002-firehose-delivery.md, 2.2): first
/// a KPL aggregate into its user records (for a Kinesis stream source: magic <c>F3 89 9A C2</c>, a protobuf
/// <c>AggregatedRecord</c>, the MD5 of it; a record that is not one, or whose MD5 does not match, is a user record as
/// it is, as the KCL treats it), then the RecordDeAggregation processor's JSON (back-to-back or newline-separated
/// objects) or DELIMITED sub-records. Thread-safe: stateless after construction.
/// </summary>
public sealed class RecordSplitter(bool kpl, bool json, byte[]? delimiter)
{
    private static readonly byte[] Magic = [0xF3, 0x89, 0x9A, 0xC2];
    private const int Md5Bytes = 16;

    /// <summary>Whether this splitter changes anything (otherwise records are taken as they are, without copying).</summary>
    public bool Splits => kpl || json || delimiter is not null;

    /// <summary>The records <paramref name="record"/> carries (itself alone when it carries none).</summary>
    public List<ReadOnlyMemory<byte>> Split(ReadOnlySpan<byte> record)
    {
        var users = kpl && UserRecords(record) is { } aggregated ? aggregated : [record.ToArray()];
        if (!json && delimiter is null)
            return users;
        var pieces = new List<ReadOnlyMemory<byte>>();
        foreach (var user in users)
        {
            if (json)
                JsonObjects(user, pieces);
            else
                Delimited(user, delimiter!, pieces);
        }
        return pieces;
    }

    /// <summary>The user records of a KPL aggregate, or null when <paramref name="record"/> is not one.</summary>
    public static List<ReadOnlyMemory<byte>>? UserRecords(ReadOnlySpan<byte> record)
    {
        if (record.Length < Magic.Length + Md5Bytes || !record.StartsWith(Magic))
            return null;
        var message = record[Magic.Length..^Md5Bytes];
        Span<byte> md5 = stackalloc byte[Md5Bytes];
        MD5.HashData(message, md5);
        if (!md5.SequenceEqual(record[^Md5Bytes..]))
            return null;
        try
        {
            var users = new List<ReadOnlyMemory<byte>>();
            var input = new CodedInputStream(message.ToArray());
            for (uint tag; (tag = input.ReadTag()) != 0;)
            {
                if (WireFormat.GetTagFieldNumber(tag) != 3 || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
                {
                    input.SkipLastField(); // the partition-key and explicit-hash-key tables
                    continue;
                }
                var user = new CodedInputStream(input.ReadBytes().ToByteArray()); // one Record message
                ReadOnlyMemory<byte>? data = null;
                for (uint field; (field = user.ReadTag()) != 0;)
                {
                    if (WireFormat.GetTagFieldNumber(field) == 3 && WireFormat.GetTagWireType(field) == WireFormat.WireType.LengthDelimited)
                        data = user.ReadBytes().ToByteArray();
                    else
                        user.SkipLastField(); // the key indexes and tags
                }
                users.Add(data ?? ReadOnlyMemory<byte>.Empty);
            }
            return users;
        }
        catch (InvalidProtocolBufferException)
        {
            return null; // the magic and a matching MD5, yet no AggregatedRecord: a user record after all
        }
    }

    /// <summary>Back-to-back or newline-separated JSON values; what does not parse is kept whole.</summary>
    private static void JsonObjects(ReadOnlyMemory<byte> record, List<ReadOnlyMemory<byte>> pieces)
    {
        var found = new List<ReadOnlyMemory<byte>>();
        var reader = new Utf8JsonReader(record.Span, new JsonReaderOptions { AllowMultipleValues = true });
        try
        {
            while (reader.Read())
            {
                long start = reader.TokenStartIndex;
                reader.Skip();
                found.Add(record[(int)start..(int)reader.BytesConsumed]);
            }
            pieces.AddRange(found);
        }
        catch (JsonException)
        {
            pieces.Add(record);
        }
    }

    private static void Delimited(ReadOnlyMemory<byte> record, byte[] delimiter, List<ReadOnlyMemory<byte>> pieces)
    {
        int start = 0;
        while (record.Span[start..].IndexOf(delimiter) is var at and >= 0)
        {
            pieces.Add(record[start..(start + at)]);
            start += at + delimiter.Length;
        }
        if (start < record.Length)
            pieces.Add(record[start..]);
    }
}
