using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Runnel.Client.Aggregation;

namespace Runnel.Client.Tests.Aggregation;

/// <summary>
/// The KPL format both ways with npm aws-kinesis-agg (the reference implementation's JavaScript port), run by node on
/// kpl-interop.cjs: records it aggregates deaggregate here, and records aggregated here deaggregate there. The module is
/// installed into tests/interop/js by scripts/install-test-deps.sh; without node or the module these tests fail.
/// </summary>
public sealed class KplInteropTests
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(90);

    [Fact(Timeout = 120000)]
    public async Task Records_aws_kinesis_agg_aggregates_deaggregate_here()
    {
        var random = new Random(41);
        var records = InteropRecords(random, forNpmAggregation: true);
        var encoded = await RunNode("aggregate", JsonList(records.Select(r => Json(r.PartitionKey, r.ExplicitHashKey, r.Data))));
        Assert.True(encoded.Count > 3, $"aws-kinesis-agg made {encoded.Count} records: the large ones should split the set");

        var read = new List<DeaggregatedRecord>();
        for (int i = 0; i < encoded.Count; i++)
        {
            var record = encoded[i]!;
            byte[] data = Convert.FromBase64String((string)record["data"]!);
            int added = Deaggregator.Deaggregate(data, (string)record["partitionKey"]!, i.ToString(System.Globalization.CultureInfo.InvariantCulture), read);
            Assert.True(added > 0 && read[^1].IsAggregated, $"aws-kinesis-agg's record {i} is an aggregate");
            Assert.Equal((string)record["partitionKey"]!, read[^added].PartitionKey); // the aggregate goes under its first record's key
        }
        Assert.Equal(records.Count, read.Count);
        for (int i = 0; i < records.Count; i++)
            AggregationSamples.AssertSame(records[i], read[i].PartitionKey, read[i].ExplicitHashKey, read[i].Data, $"user record {i}");
    }

    [Fact(Timeout = 120000)]
    public async Task Records_aggregated_here_deaggregate_in_aws_kinesis_agg()
    {
        var random = new Random(43);
        var records = InteropRecords(random, forNpmAggregation: false);
        var entries = new List<(PutRecordsEntry Entry, List<UserRecord> Users)>();
        var aggregator = new RecordAggregator();
        var users = new List<UserRecord>();
        foreach (var record in records)
        {
            if (!aggregator.TryAdd(record))
            {
                entries.Add((aggregator.ToEntry(), users));
                aggregator.Clear();
                users = [];
                Assert.True(aggregator.TryAdd(record));
            }
            users.Add(record);
        }
        entries.Add((aggregator.ToEntry(), users));
        // Aggregates of one record, of a record of empty data, and a record sent as it is (the aggregator's lone record).
        foreach (var few in new List<UserRecord>[] { records.Take(1).ToList(), [new UserRecord("empty", "1", Array.Empty<byte>())], records.Skip(7).Take(2).ToList() })
            entries.Add((new PutRecordsEntry(few[0].PartitionKey, null, KplFormat.Encode(few)), few));
        var lone = new RecordAggregator();
        Assert.True(lone.TryAdd(records[3]));
        entries.Add((lone.ToEntry(), [records[3]]));
        Assert.True(entries.Count > 4);

        var input = JsonList(entries.Select((e, i) =>
        {
            var record = Json(e.Entry.PartitionKey, e.Entry.ExplicitHashKey, e.Entry.Data);
            record["sequenceNumber"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return record;
        }));
        var output = await RunNode("deaggregate", input);
        Assert.Equal(entries.Count, output.Count);
        for (int i = 0; i < entries.Count; i++)
        {
            var read = output[i]!.AsArray();
            var expected = entries[i].Users;
            Assert.Equal(expected.Count, read.Count);
            bool aggregated = KplFormat.TryDecode(entries[i].Entry.Data, out _);
            for (int j = 0; j < expected.Count; j++)
            {
                var user = read[j]!;
                string context = $"entry {i}, user record {j}";
                Assert.True(expected[j].PartitionKey == (string)user["partitionKey"]!, context);
                Assert.True(expected[j].Data.Span.SequenceEqual(Convert.FromBase64String((string)user["data"]!)), context);
                Assert.Equal(aggregated ? (int?)j : null, (int?)user["subSequenceNumber"]);
                // aws-kinesis-agg reads an absent explicit_hash_key_index as 0 (protobufjs's default), so it reports
                // the table's first key for a record without one: only a key the record has is compared.
                if (expected[j].ExplicitHashKey is { } hashKey)
                    Assert.True(hashKey == (string?)user["explicitHashKey"], $"{context}: explicit hash key");
            }
        }
    }

    /// <summary>
    /// Many records: partition keys from a pool and fresh, ASCII and not (surrogate pairs too), explicit hash keys now
    /// and then, empty data, and a few records near the 1 MiB limit (alone they fit; two never do).
    /// <para>
    /// For aws-kinesis-agg to aggregate, no key may read as an array index (a decimal below 2^32 - 1, such as "8" or
    /// the explicit hash key "0"): it lists its key tables with <c>Object.keys</c>, which puts such keys first, so the
    /// table no longer matches the indexes it gave the records and their keys come out wrong (a bug of the module,
    /// 4.2.8; its deaggregator has no such problem, nor has the KPL).
    /// </para>
    /// </summary>
    private static List<UserRecord> InteropRecords(Random random, bool forNpmAggregation)
    {
        var records = AggregationSamples.Records(random, 3000, keyPool: 60);
        if (forNpmAggregation)
            records = [.. records.Select(r => new UserRecord(ReadsAsIndex(r.PartitionKey) ? "k" + r.PartitionKey : r.PartitionKey, ReadsAsIndex(r.ExplicitHashKey) ? null : r.ExplicitHashKey, r.Data))];
        else
            records.Insert(20, new UserRecord("8", "0", "index-like keys"u8.ToArray()));
        foreach (int at in new[] { 100, 1500, 1501, 2900 })
        {
            string key = AggregationSamples.PartitionKey(random, 30);
            int keyBytes = System.Text.Encoding.UTF8.GetByteCount(key);
            // Room for its key alone, and for aws-kinesis-agg's count of its protobuf fields (its limit leaves out the key).
            var data = new byte[RecordAggregator.DefaultMaxRecordBytes - keyBytes - 64 - random.Next(0, 64)];
            random.NextBytes(data);
            records.Insert(at, new UserRecord(key, data));
        }
        records.Insert(10, new UserRecord("only-empty", HashKeys.Format(UInt128.MaxValue), Array.Empty<byte>()));
        return records;
    }

    private static bool ReadsAsIndex(string? key) =>
        key is not null && uint.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint index)
        && index < uint.MaxValue && index.ToString(System.Globalization.CultureInfo.InvariantCulture) == key;

    private static JsonArray JsonList(IEnumerable<JsonObject> records)
    {
        var array = new JsonArray();
        foreach (var record in records)
            array.Add(record);
        return array;
    }

    private static JsonObject Json(string partitionKey, string? explicitHashKey, ReadOnlyMemory<byte> data)
    {
        var record = new JsonObject { ["partitionKey"] = partitionKey, ["data"] = Convert.ToBase64String(data.Span) };
        if (explicitHashKey is not null)
            record["explicitHashKey"] = explicitHashKey;
        return record;
    }

    /// <summary>Runs kpl-interop.cjs's <paramref name="command"/> on <paramref name="input"/>; its answer.</summary>
    private static async Task<JsonArray> RunNode(string command, JsonArray input)
    {
        string root = RepositoryRoot();
        string script = Path.Combine(root, "tests", "Runnel.Client.Tests", "Aggregation", "kpl-interop.cjs");
        string module = Path.Combine(root, "tests", "interop", "js", "node_modules", "aws-kinesis-agg");
        Assert.True(File.Exists(script), $"{script} is missing");
        if (!File.Exists(Path.Combine(module, "package.json")))
            Assert.Fail($"npm aws-kinesis-agg is not installed at {module}: run scripts/install-test-deps.sh (npm install in tests/interop/js).");

        string directory = Path.Combine(Path.GetTempPath(), "runnel-kpl-interop-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            string inputPath = Path.Combine(directory, "in.json"), outputPath = Path.Combine(directory, "out.json");
            await File.WriteAllTextAsync(inputPath, input.ToJsonString());
            var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in new[] { script, module, command, inputPath, outputPath })
                start.ArgumentList.Add(arg);
            Process process;
            try
            {
                process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
            }
            catch (Win32Exception e)
            {
                Assert.Fail($"node is not on the PATH ({e.Message}): install Node.js 20 or later (scripts/install-test-deps.sh expects it).");
                throw;
            }
            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                using var timeout = new CancellationTokenSource(NodeTimeout);
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    process.Kill(entireProcessTree: true);
                    Assert.Fail($"node {command} did not finish within {NodeTimeout.TotalSeconds} s");
                }
                Assert.True(process.ExitCode == 0, $"node {command} exited with {process.ExitCode}: {await stderr}{await stdout}");
            }
            return JsonNode.Parse(await File.ReadAllTextAsync(outputPath))!.AsArray();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Runnel.slnx")))
                return directory.FullName;
        throw new InvalidOperationException($"No Runnel.slnx above {AppContext.BaseDirectory}");
    }
}
