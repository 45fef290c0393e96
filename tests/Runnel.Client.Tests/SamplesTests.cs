using System.Diagnostics;
using Runnel.Client.Tests.Fleet;

namespace Runnel.Client.Tests;

/// <summary>
/// The samples (samples/Producer, samples/Consumer) run as their users run them, against a server's real endpoint: the
/// producer creates a stream and puts the seed tutorial's JSON records, the consumer's worker gives each back once and
/// stops; and both answer <c>--help</c>.
/// </summary>
public sealed class SamplesTests(RunnelFixture fixture) : IClassFixture<RunnelFixture>
{
    [Fact(Timeout = 120_000)]
    public async Task The_producer_puts_the_seed_records_and_the_consumer_reads_each_back()
    {
        string stream = RunnelHost.UniqueName("samples"), app = RunnelHost.UniqueName("samples-app");
        string endpoint = fixture.Host.Url.ToString();

        var (produced, producerOutput) = await RunAsync("Producer", "--endpoint", endpoint, "--stream", stream, "--shards", "2", "--count", "6", "--partition-key", "a01");
        Assert.True(produced == 0, producerOutput);
        Assert.Contains($"put 6 record(s) to {stream}", producerOutput);

        var (consumed, consumerOutput) = await RunAsync("Consumer", "--endpoint", endpoint, "--stream", stream, "--application", app, "--expect", "6");
        Assert.True(consumed == 0, consumerOutput);
        Assert.Contains("consumed 6 record(s)", consumerOutput);
        var records = consumerOutput.Split('\n').Where(l => l.Contains("[a01]: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(10, 6).Select(score => $$"""{"data_tag":"DataOne","score":"{{score}}","char":"Database Warrior"}"""),
            records.Select(l => l[(l.IndexOf("]: ", StringComparison.Ordinal) + 3)..].TrimEnd()));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("Producer")]
    [InlineData("Consumer")]
    public async Task A_sample_explains_its_options(string sample)
    {
        var (exit, output) = await RunAsync(sample, "--help");
        Assert.Equal(0, exit);
        Assert.Contains($"dotnet run --project samples/{sample}", output);
        Assert.Contains("--endpoint", output);
    }

    /// <summary>Runs a sample's built dll (samples/{name}/bin/{configuration}/{framework}/) to its end, killing it after a minute.</summary>
    private static async Task<(int Exit, string Output)> RunAsync(string sample, params string[] args)
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!;
        string repo = configuration.Parent!.Parent!.Parent!.Parent!.FullName;
        string dll = Path.Combine(repo, "samples", sample, "bin", configuration.Name, framework.Name, $"Runnel.Samples.{sample}.dll");
        Assert.True(File.Exists(dll), $"the {sample} sample is not built at {dll}; build tests/Runnel.Client.Tests (it builds the samples)");
        var start = new ProcessStartInfo(WorkerProcess.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill();
        }
        return (process.ExitCode, await output + await errors);
    }
}
