using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Runnel.Firehose.Delivery;
using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;
using Runnel.Storage.Log;
using Runnel.Storage.Metadata;
using Runnel.Storage.Records;

namespace Runnel.Firehose.Tests;

/// <summary>
/// Dynamic partitioning: the MetadataExtraction query (jq paths) read from JSON records, one buffer and one object
/// prefix per partition, records that cannot be partitioned in the error output as JSON lines, and
/// AppendDelimiterToRecord's newline.
/// </summary>
public sealed class DynamicPartitioningTests() : LogAndMetadata("partitions")
{



    [Fact]
    public void A_query_of_jq_paths_gives_each_keys_value()
    {
        var query = PartitionQuery.Parse("{customer:.customer_id, device : .type.device, first:.tags[0], \"odd key\":.\"a b\", flag:.ok, n:.count}");
        Assert.Equal(["customer", "device", "first", "odd key", "flag", "n"], query.Keys);
        var values = query.Evaluate("""{"customer_id":"c-7","type":{"device":"phone"},"tags":["x","y"],"a b":"spaced","ok":true,"count":12.5}"""u8.ToArray(), out string? problem);
        Assert.Null(problem);
        Assert.Equal(["c-7", "phone", "x", "spaced", "true", "12.5"], values!.Values);
    }

    [Theory]
    [InlineData("""{"type":{}}""", "The record has no value for the partition key 'customer'.")]
    [InlineData("""{"customer_id":null}""", "The value of the partition key 'customer' is null, not a string, number or boolean.")]
    [InlineData("not json", null)]
    public void A_record_without_its_keys_is_not_partitioned(string record, string? expected)
    {
        var values = PartitionQuery.Parse("{customer:.customer_id}").Evaluate(Encoding.UTF8.GetBytes(record), out string? problem);
        Assert.Null(values);
        if (expected is null)
            Assert.StartsWith("The record is not JSON", problem);
        else
            Assert.Equal(expected, problem);
    }

    [Theory]
    [InlineData("{year:.ts|strftime(\"%Y\")}")]
    [InlineData("{a:.x, a:.y}")]
    [InlineData("{a:x}")]
    [InlineData("{}")]
    public void What_is_more_than_paths_is_refused(string query) =>
        Assert.Throws<FormatException>(() => PartitionQuery.Parse(query));

    [Fact]
    public async Task Each_partition_lands_under_its_own_prefix_and_failures_in_the_error_output()
    {
        string[] records =
        [
            """{"customer":"a","n":1}""", """{"customer":"b","n":2}""", "not json", """{"customer":"a","n":3}""", """{"n":4}""",
        ];
        using (var batch = new RecordBatch())
        {
            foreach (string record in records)
                batch.Add("k", null, Encoding.UTF8.GetBytes(record));
            await Log.AppendAsync(batch);
        }
        var (prefix, errors) = S3Prefix.ForDestination("customer=!{partitionKeyFromQuery:customer}/", "errors/!{firehose:error-output-type}/");
        var processing = RecordProcessing.From(JsonNode.Parse("""
            {"ProcessingConfiguration":{"Enabled":true,"Processors":[
              {"Type":"MetadataExtraction","Parameters":[{"ParameterName":"MetadataExtractionQuery","ParameterValue":"{customer:.customer}"},{"ParameterName":"JsonParsingEngine","ParameterValue":"JQ-1.6"}]},
              {"Type":"AppendDelimiterToRecord","Parameters":[]}]}}
            """)!.AsObject());
        string objects = Path.Combine(Dir, "objects");
        var delivery = new ObjectDelivery("orders", 1, new DirectPutSource(Log, 0), new BufferingHints(64, 0), new FileDestination(objects), ObjectCompression.Uncompressed,
            DeliveryPosition.Load(Metadata, "orders"), prefix, errors, processing);
        await delivery.PumpAsync(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        var files = Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(objects, f)).Order().ToList();
        Assert.Equal(3, files.Count);
        string Read(string start) => File.ReadAllText(Path.Combine(objects, files.Single(f => f.StartsWith(start, StringComparison.Ordinal))));
        Assert.Equal("{\"customer\":\"a\",\"n\":1}\n{\"customer\":\"a\",\"n\":3}\n", Read("customer=a/"));
        Assert.Equal("{\"customer\":\"b\",\"n\":2}\n", Read("customer=b/"));
        var failed = Read("errors/partitioning-failed/").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["not json", "{\"n\":4}"], failed.Select(f => Encoding.UTF8.GetString(f.GetProperty("rawData").GetBytesFromBase64())));
        Assert.All(failed, f => Assert.Equal("DynamicPartitioning.MetadataExtractionFailed", f.GetProperty("errorCode").GetString()));
        Assert.Equal(5UL, DeliveryPosition.Load(Metadata, "orders").Of(0));
    }
}
