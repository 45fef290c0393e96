using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;

namespace Runnel.Firehose.Delivery;

/// <summary>A record the processors could not take: its bytes as they came, and why (an error output's record).</summary>
public readonly record struct SplitFailure(ReadOnlyMemory<byte> Raw, string ErrorCode, string ErrorMessage);

/// <summary>
/// Splits a record into the records it carries, in Firehose's order (docs/adr/0002-firehose-delivery.md, 2.2): first
/// a KPL aggregate into its user records (for a Kinesis stream source: magic <c>F3 89 9A C2</c>, a protobuf
/// <c>AggregatedRecord</c>, the MD5 of it; a record that is not one, or whose MD5 does not match, is a user record as
/// it is, as the KCL treats it), then the Decompression processor's GZIP (CloudWatch Logs subscription data) and the
/// CloudWatchLogProcessing processor's message extraction (each log event's message a record of its own, control
/// messages dropped), then the RecordDeAggregation processor's JSON (back-to-back or newline-separated objects) or
/// DELIMITED sub-records. Thread-safe: stateless after construction.
/// </summary>
public sealed class RecordSplitter(bool kpl, bool json, byte[]? delimiter, bool decompress = false, bool extractMessages = false)
{
    private static readonly byte[] Magic = [0xF3, 0x89, 0x9A, 0xC2];
    private const int Md5Bytes = 16;

    /// <summary>The most one record may decompress to (a bound against a record that inflates without end).</summary>
    public const int MaxDecompressedBytes = 64 << 20;

    /// <summary>The error output type of records that could not be decompressed or whose messages could not be extracted.</summary>
    public const string DecompressionFailed = "decompression-failed";

    /// <summary>Whether this splitter changes anything (otherwise records are taken as they are, without copying).</summary>
    public bool Splits => kpl || json || delimiter is not null || decompress;

    /// <summary>The records <paramref name="record"/> carries (itself alone when it carries none); those the Decompression
    /// and CloudWatchLogProcessing processors cannot take are added to <paramref name="failures"/> (left out when null).</summary>
    public List<ReadOnlyMemory<byte>> Split(ReadOnlySpan<byte> record, List<SplitFailure>? failures = null)
    {
        var users = kpl && UserRecords(record) is { } aggregated ? aggregated : [record.ToArray()];
        if (decompress)
            users = Decompressed(users, failures);
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

    /// <summary>Each record gunzipped, and with message extraction, the messages of its log events.</summary>
    private List<ReadOnlyMemory<byte>> Decompressed(List<ReadOnlyMemory<byte>> records, List<SplitFailure>? failures)
    {
        var taken = new List<ReadOnlyMemory<byte>>(records.Count);
        foreach (var record in records)
        {
            byte[] plain;
            try
            {
                plain = Gunzip(record);
            }
            catch (InvalidDataException e)
            {
                failures?.Add(new SplitFailure(record, "Decompression.DecompressionFailed", $"The record could not be decompressed as GZIP: {e.Message}"));
                continue;
            }
            if (!extractMessages)
            {
                taken.Add(plain);
                continue;
            }
            if (LogMessages(plain, out string? problem) is { } messages)
                taken.AddRange(messages);
            else
                failures?.Add(new SplitFailure(record, "CloudWatchLogs.MessageExtractionFailed", problem!));
        }
        return taken;
    }

    private static byte[] Gunzip(ReadOnlyMemory<byte> record)
    {
        if (record.Length < 2 || record.Span[0] != 0x1F || record.Span[1] != 0x8B)
            throw new InvalidDataException("it does not start with GZIP's magic bytes 1F 8B.");
        // The records are arrays already (the splitter's pieces): read in place, not copied.
        var bytes = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(record, out var segment) ? segment : new ArraySegment<byte>(record.ToArray());
        using var input = new GZipStream(new MemoryStream(bytes.Array!, bytes.Offset, bytes.Count, writable: false), CompressionMode.Decompress);
        using var output = new MemoryStream();
        byte[] chunk = new byte[81920];
        for (int read; (read = input.Read(chunk)) > 0;)
        {
            if (output.Length + read > MaxDecompressedBytes)
                throw new InvalidDataException($"it decompresses to more than {MaxDecompressedBytes >> 20} MiB.");
            output.Write(chunk, 0, read);
        }
        // The trailer's ISIZE (the length mod 2^32) tells a whole record from a cut one, which inflates without error.
        if (record.Length < 18 || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(record.Span[^4..]) != (uint)output.Length)
            throw new InvalidDataException("it ends before its GZIP trailer (cut short).");
        return output.ToArray();
    }

    /// <summary>The messages of a CloudWatch Logs DATA_MESSAGE (none for a CONTROL_MESSAGE); null when it is neither.</summary>
    private static List<ReadOnlyMemory<byte>>? LogMessages(byte[] document, out string? problem)
    {
        problem = null;
        try
        {
            using var parsed = JsonDocument.Parse(document);
            var root = parsed.RootElement;
            string? type = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("messageType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type == "CONTROL_MESSAGE")
                return [];
            if (type != "DATA_MESSAGE" || !root.TryGetProperty("logEvents", out var events) || events.ValueKind != JsonValueKind.Array)
            {
                problem = "The decompressed record is not CloudWatch Logs subscription data (a DATA_MESSAGE or CONTROL_MESSAGE with logEvents).";
                return null;
            }
            var messages = new List<ReadOnlyMemory<byte>>(events.GetArrayLength());
            foreach (var logEvent in events.EnumerateArray())
                if (logEvent.ValueKind == JsonValueKind.Object && logEvent.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                    messages.Add(System.Text.Encoding.UTF8.GetBytes(message.GetString()!));
            return messages;
        }
        catch (JsonException e)
        {
            problem = $"The decompressed record is not JSON: {e.Message}";
            return null;
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
