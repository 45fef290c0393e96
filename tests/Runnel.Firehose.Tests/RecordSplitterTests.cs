using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Runnel.Firehose.Delivery;

namespace Runnel.Firehose.Tests;

/// <summary>KPL aggregates split into their user records (against bytes aws-kinesis-agg made), and RecordDeAggregation's sub-records.</summary>
public sealed class RecordSplitterTests
{
    private static readonly byte[] Aggregate = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "kpl-aggregate.bin"));

    private static List<string> Texts(List<ReadOnlyMemory<byte>> pieces) => [.. pieces.Select(p => Encoding.UTF8.GetString(p.Span))];

    [Fact]
    public void A_KPL_aggregate_made_by_aws_kinesis_agg_gives_its_user_records_in_order()
    {
        var users = new RecordSplitter(kpl: true, json: false, null).Split(Aggregate);
        Assert.Equal([.. Enumerable.Range(0, 5).Select(i => $"{{\"user\":{i},\"msg\":\"hello {i}\"}}\n"), "raw bytes\n"], Texts(users));
    }

    [Fact]
    public void A_record_that_is_not_an_aggregate_or_whose_checksum_fails_is_one_user_record()
    {
        var splitter = new RecordSplitter(kpl: true, json: false, null);
        Assert.Equal(["plain"], Texts(splitter.Split("plain"u8)));
        byte[] damaged = (byte[])Aggregate.Clone();
        damaged[30] ^= 1;
        Assert.Equal(damaged, Assert.Single(splitter.Split(damaged)).ToArray());
        Assert.Single(new RecordSplitter(kpl: false, json: false, null).Split(Aggregate)); // not from a stream: not split
    }

    [Fact]
    public void JSON_sub_records_are_split_back_to_back_or_by_lines_and_the_unparsable_kept_whole()
    {
        var splitter = new RecordSplitter(kpl: false, json: true, null);
        Assert.Equal(["{\"a\":1}", "{\"a\":2}", "{\"b\":[1,2]}"], Texts(splitter.Split("{\"a\":1}{\"a\":2}\n{\"b\":[1,2]}\n"u8)));
        Assert.Equal(["{\"a\":1} oops"], Texts(splitter.Split("{\"a\":1} oops"u8)));
    }

    [Fact]
    public void Delimited_sub_records_are_the_pieces_between_the_delimiters()
    {
        var splitter = new RecordSplitter(kpl: false, json: false, "####"u8.ToArray());
        Assert.Equal(["a", "bb", "c"], Texts(splitter.Split("a####bb####c"u8)));
    }

    [Fact]
    public void KPL_user_records_are_then_split_into_JSON_sub_records()
    {
        var users = new RecordSplitter(kpl: true, json: true, null).Split(Aggregate);
        Assert.Equal(6, users.Count); // five JSON objects, and "raw bytes\n" kept whole (it is no JSON)
        Assert.Equal("{\"user\":4,\"msg\":\"hello 4\"}", Encoding.UTF8.GetString(users[4].Span));
    }

    /// <summary>CloudWatch Logs subscription data as CloudWatch Logs sends it: a JSON document, GZIP compressed.</summary>
    private static byte[] LogData(string messageType, params string[] messages)
    {
        string json = JsonSerializer.Serialize(new
        {
            messageType,
            owner = "000000000000",
            logGroup = "/app/orders",
            logStream = "i-0123",
            subscriptionFilters = new[] { "all" },
            logEvents = messages.Select((m, i) => new { id = i.ToString(System.Globalization.CultureInfo.InvariantCulture), timestamp = 1_700_000_000_000L + i, message = m }),
        });
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes(json));
        return buffer.ToArray();
    }

    [Fact]
    public void CloudWatch_Logs_data_is_decompressed_and_with_extraction_each_log_events_message_is_a_record()
    {
        byte[] data = LogData("DATA_MESSAGE", "first line", "second {\"json\":true}", "");
        var whole = Assert.Single(new RecordSplitter(kpl: false, json: false, null, decompress: true).Split(data));
        Assert.Equal("DATA_MESSAGE", JsonDocument.Parse(whole).RootElement.GetProperty("messageType").GetString());

        var failures = new List<SplitFailure>();
        var messages = new RecordSplitter(kpl: false, json: false, null, decompress: true, extractMessages: true).Split(data, failures);
        Assert.Equal(["first line", "second {\"json\":true}", ""], Texts(messages));
        Assert.Empty(failures);
    }

    [Fact]
    public void Control_messages_are_dropped_and_what_cannot_be_decompressed_or_extracted_fails_with_its_raw_bytes()
    {
        var splitter = new RecordSplitter(kpl: false, json: false, null, decompress: true, extractMessages: true);
        var failures = new List<SplitFailure>();
        Assert.Empty(splitter.Split(LogData("CONTROL_MESSAGE", "CWL CONTROL MESSAGE: Checking health of destination Firehose."), failures));
        Assert.Empty(failures);

        Assert.Empty(splitter.Split("not gzip at all"u8, failures));
        byte[] truncated = LogData("DATA_MESSAGE", "a")[..12];
        Assert.Empty(splitter.Split(truncated, failures));
        using (var buffer = new MemoryStream())
        {
            using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
                gzip.Write("{\"not\":\"logs\"}"u8);
            Assert.Empty(splitter.Split(buffer.ToArray(), failures));
        }
        Assert.Equal(["Decompression.DecompressionFailed", "Decompression.DecompressionFailed", "CloudWatchLogs.MessageExtractionFailed"], failures.Select(f => f.ErrorCode));
        Assert.Equal("not gzip at all", Encoding.UTF8.GetString(failures[0].Raw.Span));
        Assert.Equal(truncated, failures[1].Raw.ToArray());
    }

    [Fact]
    public void A_record_that_inflates_past_the_bound_fails_instead_of_exhausting_memory()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i <= RecordSplitter.MaxDecompressedBytes >> 20; i++)
                gzip.Write(zeros);
        }
        Assert.True(buffer.Length < 1 << 20, $"{buffer.Length} bytes compressed");
        var failures = new List<SplitFailure>();
        Assert.Empty(new RecordSplitter(kpl: false, json: false, null, decompress: true).Split(buffer.ToArray(), failures));
        Assert.Contains("more than 64 MiB", Assert.Single(failures).ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Processing_configurations_name_the_processors_and_refuse_what_cannot_run()
    {
        static System.Text.Json.Nodes.JsonObject Destination(string processors) =>
            System.Text.Json.Nodes.JsonNode.Parse("{\"ProcessingConfiguration\":{\"Enabled\":true,\"Processors\":[" + processors + "]}}")!.AsObject();
        const string Decompression = "{\"Type\":\"Decompression\",\"Parameters\":[{\"ParameterName\":\"CompressionFormat\",\"ParameterValue\":\"GZIP\"}]}";
        const string Extraction = "{\"Type\":\"CloudWatchLogProcessing\",\"Parameters\":[{\"ParameterName\":\"DataMessageExtraction\",\"ParameterValue\":\"true\"}]}";
        var both = RecordProcessing.From(Destination(Decompression + "," + Extraction));
        Assert.Equal((true, true, 0), (both.Decompress, both.ExtractMessages, both.NotRun.Count));
        Assert.True(both.Splitter(kpl: false).Splits);
        Assert.Contains("needs the Decompression processor", Assert.Throws<FormatException>(() => RecordProcessing.From(Destination(Extraction))).Message, StringComparison.Ordinal);
        Assert.Contains("must be GZIP", Assert.Throws<FormatException>(() => RecordProcessing.From(Destination(Decompression.Replace("GZIP", "ZSTD", StringComparison.Ordinal)))).Message, StringComparison.Ordinal);
    }
}
