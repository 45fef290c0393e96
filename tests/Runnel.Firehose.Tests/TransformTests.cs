using System.Text;
using System.Text.Json;
using Runnel.Firehose.Delivery;
using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;
using Runnel.Firehose.Transform;
using Runnel.Storage.Log;
using Runnel.Storage.Metadata;
using Runnel.Storage.Records;

namespace Runnel.Firehose.Tests;

/// <summary>
/// The Lambda processor: Firehose's transformation event to the user's function, each result honoured (Ok with new
/// data and partition keys, Dropped, ProcessingFailed), record ids missing or repeated failed one by one, a function
/// that errors retried and then all its records failed; failures in the error output as AWS writes them.
/// </summary>
public sealed class TransformTests() : LogAndMetadata("transform")
{
    private const string Function = "arn:aws:lambda:us-east-1:000000000000:function:shout";
    private string Objects => Path.Combine(Dir, "objects");



    /// <summary>The user's function, as a test writes one: it sees the event and answers as it likes.</summary>
    private sealed class TestFunction(Func<JsonElement, object?> handle) : ITransformFunction
    {
        public List<JsonElement> Events { get; } = [];

        public Task<InvocationResult> InvokeAsync(string functionArn, byte[] request, CancellationToken cancellationToken)
        {
            var invocation = JsonDocument.Parse(request).RootElement.Clone();
            Events.Add(invocation);
            return Task.FromResult(handle(invocation) is { } answer
                ? new InvocationResult(JsonSerializer.SerializeToUtf8Bytes(answer), null)
                : new InvocationResult(null, "Unhandled: boom"));
        }
    }

    private async Task PutAsync(params string[] records)
    {
        using var batch = new RecordBatch();
        foreach (string record in records)
            batch.Add("k", null, Encoding.UTF8.GetBytes(record));
        await Log.AppendAsync(batch);
    }

    private ObjectDelivery Delivery(ITransformFunction function, string prefix, int retries = 3) =>
        new("orders", 1, new DirectPutSource(Log, 0), new BufferingHints(64, 0), new FileDestination(Objects), ObjectCompression.Uncompressed,
            DeliveryPosition.Load(Metadata, "orders"), S3Prefix.ForDestination(prefix, "errors/!{firehose:error-output-type}/").Prefix,
            S3Prefix.ForDestination(prefix, "errors/!{firehose:error-output-type}/").ErrorOutput,
            transform: new TransformStage(function, new TransformSettings(Function, retries, BufferingHints.OfBytes(1_000_000, 0)),
                "arn:aws:firehose:us-east-1:000000000000:deliverystream/orders", "us-east-1", null));

    private Dictionary<string, string> Files() =>
        Directory.EnumerateFiles(Objects, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(Objects, f), File.ReadAllText);

    private static object Answer(JsonElement invocation, Func<string, (string Result, string? Data, string? Key)> decide) => new
    {
        records = invocation.GetProperty("records").EnumerateArray().Select(r =>
        {
            var (result, data, key) = decide(Encoding.UTF8.GetString(r.GetProperty("data").GetBytesFromBase64()));
            return new Dictionary<string, object?>
            {
                ["recordId"] = r.GetProperty("recordId").GetString(),
                ["result"] = result,
                ["data"] = data is null ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes(data)),
                ["metadata"] = key is null ? null : new { partitionKeys = new Dictionary<string, string> { ["letter"] = key } },
            };
        }).ToList(),
    };

    [Fact]
    public async Task Each_result_is_honoured_and_the_functions_keys_partition_the_objects()
    {
        await PutAsync("apple", "drop", "banana", "fail", "avocado");
        var function = new TestFunction(e => Answer(e, text => text switch
        {
            "drop" => ("Dropped", null, null),
            "fail" => ("ProcessingFailed", null, null),
            _ => ("Ok", text.ToUpperInvariant() + "\n", text[..1]),
        }));
        await Delivery(function, "letter=!{partitionKeyFromLambda:letter}/").PumpAsync(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        var invocation = Assert.Single(function.Events);
        Assert.Equal("arn:aws:firehose:us-east-1:000000000000:deliverystream/orders", invocation.GetProperty("deliveryStreamArn").GetString());
        Assert.Equal("us-east-1", invocation.GetProperty("region").GetString());
        Assert.Equal(5, invocation.GetProperty("records").GetArrayLength());
        Assert.True(Guid.TryParse(invocation.GetProperty("invocationId").GetString(), out _));
        var files = Files();
        Assert.Equal("APPLE\nAVOCADO\n", files.Single(f => f.Key.StartsWith("letter=a/", StringComparison.Ordinal)).Value);
        Assert.Equal("BANANA\n", files.Single(f => f.Key.StartsWith("letter=b/", StringComparison.Ordinal)).Value);
        var failed = JsonDocument.Parse(files.Single(f => f.Key.StartsWith("errors/processing-failed/", StringComparison.Ordinal)).Value.Trim()).RootElement;
        Assert.Equal("fail", Encoding.UTF8.GetString(failed.GetProperty("rawData").GetBytesFromBase64()));
        Assert.Equal("Lambda.ProcessingFailedStatus", failed.GetProperty("errorCode").GetString());
        Assert.Equal("ProcessingFailed status set for record", failed.GetProperty("errorMessage").GetString());
        Assert.Equal(Function, failed.GetProperty("lambdaARN").GetString());
        Assert.Equal(3, files.Count); // "drop" left no trace
        Assert.Equal(5UL, DeliveryPosition.Load(Metadata, "orders").Of(0));
    }

    [Fact]
    public async Task Record_ids_missing_from_the_answer_or_repeated_fail_those_records_only()
    {
        await PutAsync("one", "two", "three");
        var function = new TestFunction(e =>
        {
            var records = e.GetProperty("records").EnumerateArray().ToList();
            string Id(int i) => records[i].GetProperty("recordId").GetString()!;
            string Data(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
            return new { records = new[] { new { recordId = Id(0), result = "Ok", data = Data("ONE\n") }, new { recordId = Id(1), result = "Ok", data = Data("x") }, new { recordId = Id(1), result = "Ok", data = Data("y") } } };
        });
        await Delivery(function, "out/").PumpAsync(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var files = Files();
        Assert.Equal("ONE\n", files.Single(f => f.Key.StartsWith("out/", StringComparison.Ordinal)).Value);
        var codes = files.Single(f => f.Key.StartsWith("errors/", StringComparison.Ordinal)).Value.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("errorCode").GetString()).ToList();
        Assert.Equal(["Lambda.DuplicatedRecordId", "Lambda.MissingRecordId"], codes);
    }

    [Fact]
    public async Task A_function_that_errors_is_retried_then_all_its_records_fail()
    {
        await PutAsync("a", "b");
        var function = new TestFunction(_ => null);
        await Delivery(function, "out/", retries: 2).PumpAsync(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal(3, function.Events.Count); // the first invocation and two retries
        var lines = Files().Single().Value.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal("Lambda.FunctionError", l.GetProperty("errorCode").GetString()));
        Assert.All(lines, l => Assert.Equal(3, l.GetProperty("attemptsMade").GetInt32()));
    }
}
