using System.Formats.Cbor;
using System.Text;
using Runnel.Protocol.Cbor;
using Runnel.Protocol.Json;

namespace Runnel.Protocol.Tests;

/// <summary>The Record fast path of both wire writers says exactly what the member-by-member calls say.</summary>
public class WireRecordTests
{
    private static readonly byte[] Sequence = Encoding.ASCII.GetBytes("49590338271490256608559692538361571095921575989136588898");

    private static void MemberByMember(IWireWriter w, long arrival, byte[] data, byte[] key)
    {
        w.StartObject();
        w.Utf8String("SequenceNumber", Sequence);
        w.Timestamp("ApproximateArrivalTimestamp", arrival);
        w.Blob("Data", data);
        if (key.Length > 0)
            w.Utf8String("PartitionKey", key);
        w.EndObject();
    }

    public static TheoryData<string, string> Keys => new()
    {
        { "plain", "pk-1" },
        { "needs escaping", "quote\" backslash\\ tab\t é" },
        { "none (an AUTO stream's record)", "" },
    };

    [Theory]
    [MemberData(nameof(Keys))]
    public void Json_record_matches_the_member_calls(string because, string key)
    {
        byte[] data = [0, 1, 2, 250, 251, 252, 253];
        using var fast = new JsonWireWriter(16);
        using var slow = new JsonWireWriter(16);
        foreach (var (w, record) in new[] { (fast, true), (slow, false) })
        {
            w.StartObject();
            w.StartArray("Records");
            for (int i = 0; i < 50; i++) // past the small buffer: the writer grows
            {
                if (record)
                    w.Record(Sequence, 1_700_000_000_123 + i, data, Encoding.UTF8.GetBytes(key));
                else
                    MemberByMember(w, 1_700_000_000_123 + i, data, Encoding.UTF8.GetBytes(key));
            }
            w.EndArray();
            w.EndObject();
        }
        string json = Encoding.UTF8.GetString(fast.Complete().Span);
        Assert.Equal(Encoding.UTF8.GetString(slow.Complete().Span), json);
        using var parsed = System.Text.Json.JsonDocument.Parse(json);
        var first = parsed.RootElement.GetProperty("Records")[0];
        Assert.Equal(data, first.GetProperty("Data").GetBytesFromBase64());
        Assert.Equal(key.Length > 0, first.TryGetProperty("PartitionKey", out var pk));
        if (key.Length > 0)
            Assert.True(key == pk.GetString(), because);
    }

    [Theory]
    [MemberData(nameof(Keys))]
    public void Cbor_record_matches_the_member_calls(string because, string key)
    {
        byte[] data = new byte[300]; // a two-byte length head
        new Random(7).NextBytes(data);
        using var fast = new CborWireWriter(16);
        using var slow = new CborWireWriter(16);
        fast.Record(Sequence, 1_700_000_000_123, data, Encoding.UTF8.GetBytes(key));
        MemberByMember(slow, 1_700_000_000_123, data, Encoding.UTF8.GetBytes(key));
        Assert.Equal(slow.Complete().ToArray(), fast.Complete().ToArray());
        var reader = new CborReader(fast.Complete(), CborConformanceMode.Lax);
        reader.ReadStartMap();
        var members = new List<string>();
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            members.Add(reader.ReadTextString());
            reader.SkipValue();
        }
        Assert.True(members.SequenceEqual(key.Length > 0
            ? ["SequenceNumber", "ApproximateArrivalTimestamp", "Data", "PartitionKey"]
            : new[] { "SequenceNumber", "ApproximateArrivalTimestamp", "Data" }), because);
    }

    [Fact]
    public void Reserve_keeps_what_was_written()
    {
        foreach (IWireWriter w in new IWireWriter[] { new JsonWireWriter(16), new CborWireWriter(16) })
        {
            using var _ = w;
            w.StartObject();
            w.String("Before", "kept");
            w.Reserve(1 << 20);
            w.String("After", "too");
            w.EndObject();
            string text = w is JsonWireWriter
                ? Encoding.UTF8.GetString(w.Complete().Span)
                : new CborReader(w.Complete(), CborConformanceMode.Lax) is var r && ReadAll(r) is var s ? s : "";
            Assert.Equal("""{"Before":"kept","After":"too"}""", text);
        }
    }

    private static string ReadAll(CborReader r)
    {
        r.ReadStartMap();
        var parts = new List<string>();
        while (r.PeekState() != CborReaderState.EndMap)
            parts.Add($"\"{r.ReadTextString()}\":\"{r.ReadTextString()}\"");
        r.ReadEndMap();
        return "{" + string.Join(",", parts) + "}";
    }

    [Fact]
    public void Json_timestamps_are_epoch_seconds_with_three_decimals_however_the_seconds_repeat()
    {
        long[] arrivals = [1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_999, 1_700_000_001_000, 1_700_000_001_005,
            1_700_000_000_050, 999, 0, 1_700_000_001_005];
        using var w = new JsonWireWriter(16);
        w.StartObject();
        w.StartArray("Records");
        foreach (long arrival in arrivals)
            w.Record(Sequence, arrival, [1], "k"u8);
        w.EndArray();
        w.EndObject();
        string json = Encoding.UTF8.GetString(w.Complete().Span);
        string[] expected = ["1700000000.123", "1700000000.123", "1700000000.999", "1700000001.000", "1700000001.005",
            "1700000000.050", "0.999", "0.000", "1700000001.005"];
        var written = System.Text.RegularExpressions.Regex.Matches(json, "\"ApproximateArrivalTimestamp\":([^,]+),").Select(m => m.Groups[1].Value);
        Assert.Equal(expected, written);
    }
}
