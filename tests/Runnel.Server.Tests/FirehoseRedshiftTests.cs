namespace Runnel.Server.Tests;

/// <summary>
/// A Redshift destination served by a real PostgreSQL the test starts: records staged as objects in the intermediate
/// bucket, then loaded by COPY into the table the CopyCommand names, rows queried back; JSON 'auto' and delimited
/// records; a load that keeps failing skipped after the retry duration, with a manifest under errors/.
/// </summary>
public sealed class FirehoseRedshiftTests : IAsyncLifetime
{
    private const string JdbcUrl = "jdbc:redshift://examplecluster.abc123xyz789.us-east-1.redshift.amazonaws.com:5439/warehouse";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-firehose-redshift-" + Guid.NewGuid().ToString("N"));
    private PostgresProcess _postgres = null!;
    private RestartableServer _host = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresProcess.StartAsync();
        await _postgres.ExecuteAsync("CREATE DATABASE warehouse");
        await _postgres.ExecuteAsync("CREATE TABLE events (id integer, name text, note text); CREATE TABLE lines (a text, b integer)", "warehouse");
        _host = new RestartableServer(_dataDir, TimeProvider.System, new RunnelOptions { Limits = new() { Enabled = false }, RedshiftEndpoint = $"127.0.0.1:{_postgres.Port}" });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _postgres.Dispose();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private Task CreateAsync(string name, string table, string? columns, string options, int retrySeconds = 3600) =>
        _host.Client.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\",\"RedshiftDestinationConfiguration\":{" +
            "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"ClusterJDBCURL\":\"" + JdbcUrl + "\",\"Username\":\"postgres\",\"Password\":\"unused\"," +
            "\"CopyCommand\":{\"DataTableName\":\"" + table + "\"" + (columns is null ? "" : ",\"DataTableColumns\":\"" + columns + "\"") + ",\"CopyOptions\":\"" + options + "\"}," +
            "\"RetryOptions\":{\"DurationInSeconds\":" + retrySeconds + "}," +
            "\"S3Configuration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::staging\",\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0}}}}");

    private async Task<List<string?[]>> WaitForRowsAsync(string sql, int count)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(20); ; await Task.Delay(100))
        {
            var rows = await _postgres.QueryAsync(sql, "warehouse");
            if (rows.Count >= count)
                return rows;
            Assert.True(DateTime.UtcNow < deadline, $"{rows.Count} of {count} rows loaded");
        }
    }

    [Fact(Timeout = 120000)]
    public async Task The_warehouse_going_away_holds_the_load_back_and_every_record_is_loaded_once_when_it_returns()
    {
        await _postgres.ExecuteAsync("CREATE TABLE outage (id integer)", "warehouse");
        await CreateAsync("tooutage", "outage", "id", "json 'auto'");
        _postgres.Kill();
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("tooutage", ["{\"id\":1}", "{\"id\":2}", "{\"id\":3}"]));
        // Staged while the warehouse is gone; the load fails and is tried again.
        await FirehoseObjects.WaitForAsync(Path.Combine(_dataDir, "buckets", "staging"), ["{\"id\":1}", "{\"id\":2}", "{\"id\":3}"]);
        await Task.Delay(1500);
        await _postgres.StartAgainAsync();
        var rows = await WaitForRowsAsync("SELECT id FROM outage ORDER BY id", 3);
        await Task.Delay(1500); // a load retried twice would show by now
        Assert.Equal([["1"], ["2"], ["3"]], await _postgres.QueryAsync("SELECT id FROM outage ORDER BY id", "warehouse"));
        Assert.Equal(3, rows.Count);
    }

    [Fact]
    public async Task JSON_records_are_staged_then_copied_into_the_named_columns()
    {
        await CreateAsync("tojson", "events", "id,name", "json 'auto'");
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("tojson",
            ["{\"id\":1,\"name\":\"one\",\"note\":\"not loaded\"}", "{\"ID\":2,\"Name\":\"two\\ttab\"}", "{\"id\":3}"]));
        var rows = await WaitForRowsAsync("SELECT id, name, note FROM events ORDER BY id", 3);
        Assert.Equal([["1", "one", null], ["2", "two\ttab", null], ["3", null, null]], rows);
        Assert.NotEmpty(FirehoseObjects.Keys(Path.Combine(_dataDir, "buckets", "staging"))); // staged first, as Firehose does
    }

    [Fact]
    public async Task Delimited_records_are_copied_into_every_column_of_the_table()
    {
        await CreateAsync("tolines", "lines", null, "delimiter '|'");
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("tolines", ["x|1", "y|2"]));
        var rows = await WaitForRowsAsync("SELECT a, b FROM lines ORDER BY b", 2);
        Assert.Equal([["x", "1"], ["y", "2"]], rows);
    }

    [Fact]
    public async Task A_load_that_keeps_failing_is_skipped_with_a_manifest_under_errors()
    {
        await CreateAsync("tomissing", "absent", null, "json 'auto'", retrySeconds: 1);
        await _host.Client.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch("tomissing", ["{\"id\":1}"]));
        string staging = Path.Combine(_dataDir, "buckets", "staging");
        for (var deadline = DateTime.UtcNow.AddSeconds(20); !FirehoseObjects.Keys(staging).Any(k => k.StartsWith("errors/manifests/", StringComparison.Ordinal)); await Task.Delay(100))
            Assert.True(DateTime.UtcNow < deadline, "no manifest was written for the skipped batch");
        string manifest = File.ReadAllText(Path.Combine(staging, FirehoseObjects.Keys(staging).Single(k => k.StartsWith("errors/", StringComparison.Ordinal))));
        Assert.Matches("""^\{"entries":\[\{"url":"s3://staging/\d{4}/\d{2}/\d{2}/\d{2}/tomissing-1-.+","mandatory":true\}\]\}$""", manifest);
    }

    [Fact]
    public async Task A_CopyCommand_Runnel_cannot_run_is_refused_when_the_stream_is_made()
    {
        string message = await _host.Client.ErrorMessageAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"fixed\",\"RedshiftDestinationConfiguration\":{" +
            "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"ClusterJDBCURL\":\"" + JdbcUrl + "\",\"Username\":\"user\",\"Password\":\"password\"," +
            "\"CopyCommand\":{\"DataTableName\":\"t\",\"CopyOptions\":\"fixedwidth 'a:3'\"},\"S3Configuration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::staging\"}}}",
            "InvalidArgumentException");
        Assert.StartsWith("Runnel's COPY does not take the option 'fixedwidth 'a:3''", message);
    }
}
