using System.Diagnostics;
using System.Net.Sockets;
using Amazon.S3;
using Runnel.Firehose.Destinations;

namespace Runnel.Server.Tests;

/// <summary>
/// A real S3-compatible store for a test: npm's <c>s3rver</c> (installed into tests/interop/js by
/// scripts/install-test-deps.sh), on 127.0.0.1 and a free port, with its data in a directory of its own and the
/// buckets asked for made at start-up. Stopped (and its directory deleted) when disposed; can be stopped and started
/// again on the same port and data.
/// </summary>
public sealed class S3rverProcess : IDisposable
{
    public const string AccessKey = "S3RVER", SecretKey = "S3RVER"; // s3rver's fixed credentials

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runnel-s3rver-" + Guid.NewGuid().ToString("N"));
    private readonly string[] _buckets;
    private Process? _process;

    private S3rverProcess(int port, string[] buckets)
    {
        Port = port;
        _buckets = buckets;
    }

    public int Port { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>Runnel's settings for this store.</summary>
    public S3Settings Settings => new(Endpoint, AccessKey, SecretKey);

    public static async Task<S3rverProcess> StartAsync(params string[] buckets)
    {
        using var probe = new TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var s3rver = new S3rverProcess(port, buckets);
        await s3rver.StartAgainAsync();
        return s3rver;
    }

    public async Task StartAgainAsync()
    {
        string script = Script();
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { script, "-d", _directory, "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent" })
            start.ArgumentList.Add(arg);
        foreach (string bucket in _buckets)
        {
            start.ArgumentList.Add("--configure-bucket");
            start.ArgumentList.Add(bucket);
        }
        Directory.CreateDirectory(_directory);
        _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var deadline = DateTime.UtcNow.AddSeconds(20); DateTime.UtcNow < deadline; await Task.Delay(50))
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", Port);
                return;
            }
            catch (SocketException) when (!_process.HasExited)
            {
            }
        }
        throw new InvalidOperationException($"s3rver did not listen on {Port} within 20 s (exited: {_process.HasExited})");
    }

    /// <summary>Stops the store (its data stays), as an outage.</summary>
    public void Stop()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        _process?.Dispose();
        _process = null;
    }

    /// <summary>A client of this store, as a user's tool would read the bucket.</summary>
    public IAmazonS3 Client() => Settings.CreateClient();

    private static string Script()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Runnel.slnx")))
            dir = dir.Parent;
        string script = Path.Combine(dir?.FullName ?? ".", "tests", "interop", "js", "node_modules", "s3rver", "bin", "s3rver.js");
        return File.Exists(script) ? script : throw new FileNotFoundException($"s3rver is not installed: run scripts/install-test-deps.sh ({script} is missing).");
    }

    public void Dispose()
    {
        Stop();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
