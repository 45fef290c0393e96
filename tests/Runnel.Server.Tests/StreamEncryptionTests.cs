using System.Text;
using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// Encryption at rest of a stream (StartStreamEncryption, StopStreamEncryption) on the embedded backend: what AWS
/// reports (DescribeStreamSummary's KeyId, PutRecord's and each record's EncryptionType), no plaintext of a sealed
/// record anywhere under the data directory, records from before, during and after read back across a restart, the
/// wrong master key refused with KMSInvalidStateException, the development key made outside the data directory.
/// </summary>
public sealed class StreamEncryptionTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-encryption-" + Guid.NewGuid().ToString("N"));
    private string DataDir => Path.Combine(_dir, "data");
    private string KeyFile => Path.Combine(_dir, "master.key");
    private RestartableServer _host = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllBytes(KeyFile, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        _host = Server(KeyFile);
        await _host.StartAsync();
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"secrets","ShardCount":1}""");
    }

    private RestartableServer Server(string? keyFile, string? developmentKey = null) => new(DataDir, TimeProvider.System, new RunnelOptions
    {
        Limits = new() { Enabled = false },
        Log = new() { Fsync = Runnel.Storage.Log.FsyncPolicy.Always },
        MasterKeyFile = keyFile,
        DevelopmentKeyFile = developmentKey ?? Path.Combine(_dir, "dev", "dev-master.key"),
    });

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private Task<JsonElement> PutAsync(string key, string data) =>
        _host.Client.OkAsync("PutRecord", $$"""{"StreamName":"secrets","PartitionKey":"{{key}}","Data":"{{B64(data)}}"}""");

    private async Task<List<(string Key, string Data, string? Encryption)>> ReadAllAsync()
    {
        string iterator = (await _host.Client.OkAsync("GetShardIterator", """{"StreamName":"secrets","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString()!;
        var records = (await _host.Client.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).GetProperty("Records");
        return records.EnumerateArray().Select(r => (r.GetProperty("PartitionKey").GetString()!, Encoding.UTF8.GetString(r.GetProperty("Data").GetBytesFromBase64()),
            r.TryGetProperty("EncryptionType", out var e) ? e.GetString() : null)).ToList();
    }

    /// <summary>Whether any file under the data directory holds <paramref name="text"/> in UTF-8.</summary>
    private bool OnDisk(string text)
    {
        byte[] needle = Encoding.UTF8.GetBytes(text);
        return Directory.EnumerateFiles(DataDir, "*", SearchOption.AllDirectories)
            .Where(file => Path.GetFileName(file) != Runnel.Storage.DataDirectoryLock.FileName) // locked, and holds only the holder's name
            .Any(file => File.ReadAllBytes(file).AsSpan().IndexOf(needle) >= 0);
    }

    [Fact(Timeout = 60000)]
    public async Task Records_put_while_encryption_is_on_are_sealed_on_disk_and_every_record_reads_back_across_a_restart()
    {
        await PutAsync("plain-key-before", "plain-data-before");
        await _host.Client.OkAsync("StartStreamEncryption", """{"StreamName":"secrets","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}""");
        var summary = (await _host.Client.OkAsync("DescribeStreamSummary", """{"StreamName":"secrets"}""")).GetProperty("StreamDescriptionSummary");
        Assert.Equal(("KMS", "alias/aws/kinesis"), (summary.GetProperty("EncryptionType").GetString(), summary.GetProperty("KeyId").GetString()));
        var put = await PutAsync("secret-key-during", "secret-data-during");
        Assert.Equal("KMS", put.GetProperty("EncryptionType").GetString());
        var batch = await _host.Client.OkAsync("PutRecords", $$"""{"StreamName":"secrets","Records":[{"PartitionKey":"secret-key-batch","Data":"{{B64("secret-data-batch")}}"}]}""");
        Assert.Equal("KMS", batch.GetProperty("EncryptionType").GetString());
        await _host.Client.OkAsync("StopStreamEncryption", """{"StreamName":"secrets","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}""");
        Assert.False((await PutAsync("plain-key-after", "plain-data-after")).TryGetProperty("EncryptionType", out _));
        Assert.Equal("NONE", (await _host.Client.OkAsync("DescribeStreamSummary", """{"StreamName":"secrets"}""")).GetProperty("StreamDescriptionSummary").GetProperty("EncryptionType").GetString());

        var expected = new List<(string, string, string?)>
        {
            ("plain-key-before", "plain-data-before", null), ("secret-key-during", "secret-data-during", "KMS"),
            ("secret-key-batch", "secret-data-batch", "KMS"), ("plain-key-after", "plain-data-after", null),
        };
        Assert.Equal(expected, await ReadAllAsync());

        // The bytes on disk: the plaintext records are there (the scan finds what it looks for), the sealed ones are not.
        Assert.True(OnDisk("plain-data-before") && OnDisk("plain-key-after"));
        foreach (string secret in new[] { "secret-key-during", "secret-data-during", "secret-key-batch", "secret-data-batch" })
            Assert.False(OnDisk(secret), $"'{secret}' lies in plaintext under the data directory");

        await _host.StopAsync();
        await _host.StartAsync();
        Assert.Equal(expected, await ReadAllAsync());
    }

    [Fact(Timeout = 60000)]
    public async Task Another_master_key_cannot_open_the_records_and_says_so()
    {
        await _host.Client.OkAsync("StartStreamEncryption", """{"StreamName":"secrets","EncryptionType":"KMS","KeyId":"arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"}""");
        await PutAsync("k", "sealed");
        await _host.StopAsync();
        string other = Path.Combine(_dir, "other.key");
        File.WriteAllText(other, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        _host = Server(other);
        await _host.StartAsync();
        string iterator = (await _host.Client.OkAsync("GetShardIterator", """{"StreamName":"secrets","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}"""))
            .GetProperty("ShardIterator").GetString()!;
        string message = await _host.Client.ErrorMessageAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""", "KMSInvalidStateException");
        Assert.Contains("does not open with the master key of this server (--master-key-file", message, StringComparison.Ordinal);
        await _host.Client.ErrorMessageAsync("PutRecord", $$"""{"StreamName":"secrets","PartitionKey":"k","Data":"{{B64("x")}}"}""", "KMSInvalidStateException");
    }

    [Fact(Timeout = 60000)]
    public async Task Without_a_configured_key_a_development_key_is_made_once_outside_the_data_directory()
    {
        await _host.StopAsync();
        string development = Path.Combine(_dir, "config", "runnel", "dev-master.key");
        _host = Server(null, development);
        await _host.StartAsync();
        Assert.False(File.Exists(development)); // made when first needed, not before
        await _host.Client.OkAsync("StartStreamEncryption", """{"StreamName":"secrets","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}""");
        Assert.True(File.Exists(development));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(development));
        await PutAsync("k", "with-the-development-key");
        await _host.StopAsync();
        _host = Server(null, development);
        await _host.StartAsync();
        Assert.Equal("with-the-development-key", (await ReadAllAsync()).Single().Data);

        await _host.StopAsync();
        _host = Server(null, Path.Combine(DataDir, "dev-master.key"));
        await _host.StartAsync();
        await _host.Client.OkAsync("CreateStream", """{"StreamName":"other","ShardCount":1}""");
        string refused = await _host.Client.ErrorMessageAsync("StartStreamEncryption", """{"StreamName":"other","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}""", "KMSInvalidStateException");
        Assert.Contains("would lie inside the data directory", refused, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task A_master_key_file_that_is_not_32_bytes_stops_the_start_saying_what_it_must_hold()
    {
        await _host.StopAsync();
        string bad = Path.Combine(_dir, "short.key");
        File.WriteAllText(bad, "too short");
        var refused = Assert.Throws<ArgumentException>(() => RunnelServer.Create(new RunnelOptions { Port = 0, DataDir = DataDir, MasterKeyFile = bad }, logging: _ => { }));
        Assert.Contains("must hold 32 bytes: raw, base64 or hex", refused.Message, StringComparison.Ordinal);
        _host = Server(KeyFile); // the directory is free again: the failed start closed what it opened
        await _host.StartAsync();
    }

    [Theory]
    [InlineData("""{"StreamName":"secrets","EncryptionType":"KMS","KeyId":"not-a-key"}""", "InvalidArgumentException", "Received KeyId is not a properly formatted Alias or GUID")]
    [InlineData("""{"StreamName":"secrets","EncryptionType":"KMS","KeyId":"arn:aws:s3:::bucket"}""", "InvalidArgumentException", "Received KeyId ARN is not a properly formatted ARN")]
    [InlineData("""{"StreamName":"secrets","EncryptionType":"NONE","KeyId":"alias/aws/kinesis"}""", "InvalidArgumentException", "KMS is the only valid EncryptionType for this request")]
    [InlineData("""{"StreamName":"missing","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}""", "ResourceNotFoundException", null)]
    public async Task Bad_requests_get_AWSs_errors(string body, string type, string? message)
    {
        string answer = await _host.Client.ErrorMessageAsync("StartStreamEncryption", body, type);
        if (message is not null)
            Assert.Equal(message, answer);
    }
}
