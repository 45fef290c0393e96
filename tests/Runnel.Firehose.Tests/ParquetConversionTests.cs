using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;
using Runnel.Firehose.Delivery;
using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;
using Runnel.Storage.Log;
using Runnel.Storage.Metadata;
using Runnel.Storage.Records;

namespace Runnel.Firehose.Tests;

/// <summary>Record format conversion: JSON records into a Parquet object read back with Parquet.Net, and records that do not fit in the error output.</summary>
public sealed class ParquetConversionTests() : LogAndMetadata("parquet")
{



    [Fact]
    public async Task JSON_records_become_one_Parquet_object_and_those_that_do_not_fit_go_to_the_error_output()
    {
        using (var batch = new RecordBatch())
        {
            foreach (string record in new[]
            {
                """{"id":1,"Name":"one","score":1.5,"ok":true,"at":"2026-12-04T10:00:00Z"}""",
                """{"id":"2","NAME":"two","score":null,"ok":false,"at":1796378400000}""",
                """{"id":"three"}""",
                "not json",
            })
                batch.Add("k", null, Encoding.UTF8.GetBytes(record + "\n"));
            await Log.AppendAsync(batch);
        }
        var conversion = new ParquetConversion(
            [new("id", "int"), new("name", "string"), new("score", "double"), new("ok", "boolean"), new("at", "timestamp")],
            CompressionMethod.Snappy, caseInsensitive: true, new Dictionary<string, string> { ["name"] = "Name" }, "db", "events");
        string objects = Path.Combine(Dir, "objects");
        var (prefix, errors) = S3Prefix.ForDestination("parquet/", "errors/!{firehose:error-output-type}/");
        var delivery = new ObjectDelivery("orders", 1, new DirectPutSource(Log, 0), new BufferingHints(64, 0), new FileDestination(objects), ObjectCompression.Uncompressed,
            DeliveryPosition.Load(Metadata, "orders"), prefix, errors, conversion: conversion);
        await delivery.PumpAsync(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        var files = Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(objects, f)).ToList();
        string parquet = Assert.Single(files, f => f.StartsWith("parquet/", StringComparison.Ordinal));
        Assert.EndsWith(".parquet", parquet, StringComparison.Ordinal);
        await using (var reader = await ParquetReader.CreateAsync(File.OpenRead(Path.Combine(objects, parquet))))
        {
            using var group = reader.OpenRowGroupReader(0);
            var fields = reader.Schema.GetDataFields();
            Assert.Equal(["id", "name", "score", "ok", "at"], fields.Select(f => f.Name));
            var ids = new int?[2];
            await group.ReadAsync(fields[0], (Memory<int?>)ids);
            Assert.Equal([1, 2], ids);
            var names = new string?[2];
            await group.ReadAsync(fields[1], names.AsMemory());
            Assert.Equal(new[] { "one", "two" }, names.Select(n => n ?? "")); // the mapping names "Name"; case-insensitive matching
            var scores = new double?[2];
            await group.ReadAsync(fields[2], (Memory<double?>)scores);
            Assert.Equal([1.5, null], scores);
        }
        string failed = File.ReadAllText(Path.Combine(objects, Assert.Single(files, f => f.StartsWith("errors/format-conversion-failed/", StringComparison.Ordinal))));
        var lines = failed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["{\"id\":\"three\"}\n", "not json\n"], lines.Select(l => Encoding.UTF8.GetString(l.GetProperty("rawData").GetBytesFromBase64())));
        Assert.All(lines, l => Assert.Equal("DataFormatConversion.MalformedData", l.GetProperty("lastErrorCode").GetString()));
        Assert.Equal("events", lines[0].GetProperty("dataCatalogTable").GetProperty("tableName").GetString());
    }
}
