using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>
/// DescribeAccountSettings and UpdateAccountSettings (the minimum throughput billing commitment and its 24 hours),
/// and what the commitment unlocks: warm throughput on on-demand streams and 50 consumers per stream. A server
/// of its own with a clock moved by hand: the commitment is account-wide.
/// </summary>
public sealed class AccountSettingsTests : IAsyncLifetime
{
    private const string Account = "000000000000";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "runnel-account-test-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
    private readonly RestartableServer _host;
    private readonly CapturedLog _log = new();

    public AccountSettingsTests() =>
        // Limits on, as on AWS (the consumer limit is one of them); the clock is advanced past the control-plane rates.
        _host = new RestartableServer(_dataDir, _clock, new RunnelOptions(), _log.Install);

    public Task InitializeAsync() => _host.StartAsync();

    private Task StartAsync() => _host.StartAsync();

    private Task StopAsync() => _host.StopAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        try { Directory.Delete(_dataDir, recursive: true); } catch (IOException) { }
    }

    private async Task<JsonElement> OkAsync(string operation, string body)
    {
        _clock.Advance(TimeSpan.FromSeconds(1)); // past the per-account rate of the control plane
        return await _host.Client.OkAsync(operation, body);
    }

    private async Task<string> ErrorAsync(string operation, string body, string type)
    {
        _clock.Advance(TimeSpan.FromSeconds(1));
        return await _host.Client.ErrorMessageAsync(operation, body, type);
    }

    private async Task<JsonElement> CommitmentAsync(string? change = null) =>
        (change is null
            ? await OkAsync("DescribeAccountSettings", "{}")
            : await OkAsync("UpdateAccountSettings", $$$"""{"MinimumThroughputBillingCommitment":{"Status":"{{{change}}}"}}"""))
        .GetProperty("MinimumThroughputBillingCommitment");

    private static long Seconds(JsonElement commitment, string member) => (long)commitment.GetProperty(member).GetDouble();

    private static HashSet<string> Members(JsonElement element) => element.EnumerateObject().Select(p => p.Name).ToHashSet();

    private async Task<JsonElement> SummaryAsync(string stream) =>
        (await OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary");

    private async Task<int> OpenShardsAsync(string stream) => (await SummaryAsync(stream)).GetProperty("OpenShardCount").GetInt32();

    [Fact(Timeout = 60000)]
    public async Task The_commitment_lasts_its_minimum_period_and_a_disable_before_then_is_scheduled()
    {
        var never = await CommitmentAsync();
        Assert.Equal(["Status"], Members(never));
        Assert.Equal("DISABLED", never.GetProperty("Status").GetString());

        var enabled = await CommitmentAsync("ENABLED");
        long started = _clock.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal("ENABLED", enabled.GetProperty("Status").GetString());
        Assert.Equal(started, Seconds(enabled, "StartedAt"));
        Assert.Equal(started + 86_400, Seconds(enabled, "EarliestAllowedEndAt"));
        Assert.False(enabled.TryGetProperty("EndedAt", out _));

        // Disabling within the 24 hours schedules the end; enabling again cancels it.
        var scheduled = await CommitmentAsync("DISABLED");
        Assert.Equal("ENABLED_UNTIL_EARLIEST_ALLOWED_END", scheduled.GetProperty("Status").GetString());
        Assert.Equal(started + 86_400, Seconds(scheduled, "EarliestAllowedEndAt"));
        Assert.Equal("ENABLED", (await CommitmentAsync("ENABLED")).GetProperty("Status").GetString());
        Assert.Equal(started, Seconds(await CommitmentAsync(), "StartedAt"));
        Assert.Equal("ENABLED_UNTIL_EARLIEST_ALLOWED_END", (await CommitmentAsync("DISABLED")).GetProperty("Status").GetString());

        // The schedule holds across a restart, and ends the commitment when its time comes.
        await StopAsync();
        await StartAsync();
        Assert.Equal("ENABLED_UNTIL_EARLIEST_ALLOWED_END", (await CommitmentAsync()).GetProperty("Status").GetString());
        _clock.Advance(TimeSpan.FromHours(24));
        var ended = await CommitmentAsync();
        Assert.Equal("DISABLED", ended.GetProperty("Status").GetString());
        Assert.Equal((started, started + 86_400), (Seconds(ended, "StartedAt"), Seconds(ended, "EndedAt")));

        // After the period a disable is immediate.
        await CommitmentAsync("ENABLED");
        _clock.Advance(TimeSpan.FromHours(25));
        var off = await CommitmentAsync("DISABLED");
        Assert.Equal("DISABLED", off.GetProperty("Status").GetString());
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeSeconds(), Seconds(off, "EndedAt"));

        Assert.Contains("Member must satisfy enum value set: [ENABLED, DISABLED]",
            await ErrorAsync("UpdateAccountSettings", """{"MinimumThroughputBillingCommitment":{"Status":"ENABLED_UNTIL_EARLIEST_ALLOWED_END"}}""", "ValidationException"), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task Account_settings_that_do_not_parse_start_the_server_without_the_commitment_and_say_so()
    {
        await CommitmentAsync("ENABLED");
        await StopAsync();
        using (var store = new Runnel.Storage.Metadata.MetadataStore(_dataDir))
            store.WriteSetting(Streams.AccountSettings.SettingName, "{\"status\":\"Sometimes\"}"u8.ToArray());
        await StartAsync();
        Assert.Equal("DISABLED", (await CommitmentAsync()).GetProperty("Status").GetString());
        Assert.Contains("do not parse; the minimum throughput billing commitment starts DISABLED", _log.AtLeast(Microsoft.Extensions.Logging.LogLevel.Warning), StringComparison.Ordinal);
        Assert.Equal("ENABLED", (await CommitmentAsync("ENABLED")).GetProperty("Status").GetString()); // and can be enabled again
    }

    [Fact(Timeout = 60000)]
    public async Task Warm_throughput_needs_the_commitment_and_an_on_demand_stream_and_scales_it_up()
    {
        Assert.Contains("minimum throughput billing commitment",
            await ErrorAsync("CreateStream", """{"StreamName":"warm","StreamModeDetails":{"StreamMode":"ON_DEMAND"},"WarmThroughputMiBps":10}""", "InvalidArgumentException"), StringComparison.Ordinal);
        await OkAsync("CreateStream", """{"StreamName":"plain","StreamModeDetails":{"StreamMode":"ON_DEMAND"}}""");
        Assert.False((await SummaryAsync("plain")).TryGetProperty("WarmThroughput", out _)); // not without the commitment

        await CommitmentAsync("ENABLED");
        await OkAsync("CreateStream", """{"StreamName":"warm","StreamModeDetails":{"StreamMode":"ON_DEMAND"},"WarmThroughputMiBps":10}""");
        var summary = await SummaryAsync("warm");
        Assert.Equal(10, summary.GetProperty("OpenShardCount").GetInt32());
        Assert.Equal((10, 10), (summary.GetProperty("WarmThroughput").GetProperty("TargetMiBps").GetInt32(), summary.GetProperty("WarmThroughput").GetProperty("CurrentMiBps").GetInt32()));
        var plain = await SummaryAsync("plain");
        Assert.Equal(["CurrentMiBps"], Members(plain.GetProperty("WarmThroughput")));
        Assert.Equal(4, plain.GetProperty("WarmThroughput").GetProperty("CurrentMiBps").GetInt32());

        var answer = await OkAsync("UpdateStreamWarmThroughput", """{"StreamName":"plain","WarmThroughputMiBps":7}""");
        Assert.Equal(("plain", $"arn:aws:kinesis:us-east-1:{Account}:stream/plain"), (answer.GetProperty("StreamName").GetString(), answer.GetProperty("StreamARN").GetString()));
        Assert.Equal((7, 4), (answer.GetProperty("WarmThroughput").GetProperty("TargetMiBps").GetInt32(), answer.GetProperty("WarmThroughput").GetProperty("CurrentMiBps").GetInt32()));
        Assert.Equal(7, await OpenShardsAsync("plain"));
        // A lower target lowers the floor only: the shards stay until the on-demand scaler finds them idle.
        await OkAsync("UpdateStreamWarmThroughput", """{"StreamName":"plain","WarmThroughputMiBps":1}""");
        Assert.Equal(7, await OpenShardsAsync("plain"));
        Assert.Equal(1, (await SummaryAsync("plain")).GetProperty("WarmThroughput").GetProperty("TargetMiBps").GetInt32());

        await OkAsync("CreateStream", """{"StreamName":"fixed","ShardCount":1}""");
        Assert.Contains("only supported for streams in ON_DEMAND mode",
            await ErrorAsync("UpdateStreamWarmThroughput", """{"StreamName":"fixed","WarmThroughputMiBps":5}""", "InvalidArgumentException"), StringComparison.Ordinal);
        Assert.False((await SummaryAsync("fixed")).TryGetProperty("WarmThroughput", out _));
        Assert.Equal("WarmThroughputMiBps 10241 is greater than the maximum of 10240 MiBps.",
            await ErrorAsync("UpdateStreamWarmThroughput", """{"StreamName":"plain","WarmThroughputMiBps":10241}""", "LimitExceededException"));
        Assert.Equal("1 validation error detected: Value '-1' at 'warmThroughputMiBps' failed to satisfy constraint: Member must have value greater than or equal to 0",
            await ErrorAsync("UpdateStreamWarmThroughput", """{"StreamName":"plain","WarmThroughputMiBps":-1}""", "ValidationException"));

        // The target survives a restart.
        await StopAsync();
        await StartAsync();
        Assert.Equal(1, (await SummaryAsync("plain")).GetProperty("WarmThroughput").GetProperty("TargetMiBps").GetInt32());
    }

    [Fact(Timeout = 60000)]
    public async Task The_commitment_raises_the_consumers_of_a_stream_from_20_to_50()
    {
        await OkAsync("CreateStream", """{"StreamName":"fan","ShardCount":1}""");
        string arn = $"arn:aws:kinesis:us-east-1:{Account}:stream/fan";
        for (int i = 0; i < 20; i++)
            await OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"c{{i}}"}""");
        Assert.Contains("20", await ErrorAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"c20"}""", "LimitExceededException"), StringComparison.Ordinal);
        await CommitmentAsync("ENABLED");
        for (int i = 20; i < 50; i++)
            await OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"c{{i}}"}""");
        Assert.Contains("50", await ErrorAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{arn}}","ConsumerName":"c50"}""", "LimitExceededException"), StringComparison.Ordinal);
    }
}
