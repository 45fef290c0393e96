using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Runnel.Storage.Tests.JetStream;

/// <summary>
/// A JetStream cluster of real <c>nats-server</c> processes (Debian's, installed by scripts/install-test-deps.sh)
/// on loopback ports picked here, each with its own store directory; stopped and deleted on dispose. Nodes can
/// be killed (SIGKILL) and started again on the same ports and store.
/// </summary>
public sealed class NatsCluster : IAsyncDisposable
{
    private readonly Node[] _nodes;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "runnel-nats-" + Guid.NewGuid().ToString("N")[..12]);

    private sealed class Node
    {
        public required string Name { get; init; }
        public required int ClientPort { get; init; }
        public required int ClusterPort { get; init; }
        public required int MonitorPort { get; init; }
        public required string Config { get; init; }
        public Process? Process { get; set; }
    }

    private NatsCluster(int size, long? maxFileStore)
    {
        Directory.CreateDirectory(_root);
        var ports = Enumerable.Range(0, size).Select(_ => (Client: FreePort(), Cluster: FreePort(), Monitor: FreePort())).ToArray();
        string routes = string.Join(", ", ports.Select(p => $"nats-route://127.0.0.1:{p.Cluster}"));
        _nodes = new Node[size];
        for (int i = 0; i < size; i++)
        {
            string name = $"n{i + 1}";
            string store = Path.Combine(_root, name);
            string config = Path.Combine(_root, name + ".conf");
            File.WriteAllText(config, $$"""
                server_name: {{name}}
                listen: 127.0.0.1:{{ports[i].Client}}
                http: 127.0.0.1:{{ports[i].Monitor}}
                max_payload: 16MB
                jetstream { store_dir: "{{store}}"{{(maxFileStore is { } most ? $"\n  max_file_store: {most}" : "")}} }
                """ + (size == 1 ? "" : $$"""

                cluster {
                  name: runnel-test
                  listen: 127.0.0.1:{{ports[i].Cluster}}
                  routes: [{{routes}}]
                }
                """)); // one server alone is no cluster: with a cluster block it would wait for a meta leader for ever
            _nodes[i] = new Node { Name = name, ClientPort = ports[i].Client, ClusterPort = ports[i].Cluster, MonitorPort = ports[i].Monitor, Config = config };
        }
    }

    /// <summary>The directory under which every node keeps its JetStream store (for tests that look at the bytes stored).</summary>
    public string Root => _root;

    /// <summary>Every node's client URL, comma-separated, as <c>--nats</c> takes them.</summary>
    public string Urls => string.Join(",", _nodes.Select(n => $"nats://127.0.0.1:{n.ClientPort}"));

    public int Size => _nodes.Length;

    /// <summary>Starts <paramref name="size"/> nodes and waits until every one reports JetStream healthy.</summary>
    /// <remarks>The ports are free when picked but may be taken before a server binds them (the machine's
    /// outgoing connections draw from the same range); a node that exits at start-up makes a new cluster on new
    /// ports, up to three times.</remarks>
    /// <param name="maxFileStore">Each server's JetStream file store limit, bytes (a disk that fills); none by default.</param>
    public static async Task<NatsCluster> StartAsync(int size = 3, long? maxFileStore = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            var cluster = new NatsCluster(size, maxFileStore);
            try
            {
                for (int i = 0; i < size; i++)
                    cluster.Launch(i);
                for (int i = 0; i < size; i++)
                    await cluster.WaitHealthyAsync(i);
                return cluster;
            }
            catch (InvalidOperationException e) when (attempt < 3 && e.Message.Contains("exited", StringComparison.Ordinal))
            {
                await cluster.DisposeAsync();
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Kills node <paramref name="index"/> with SIGKILL: no goodbye to its peers, as a crash.</summary>
    public void Kill(int index)
    {
        var process = _nodes[index].Process;
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process?.Dispose();
        _nodes[index].Process = null;
    }

    /// <summary>Starts node <paramref name="index"/> again on its ports and store, and waits until it is healthy.</summary>
    public async Task RestartAsync(int index)
    {
        Kill(index);
        Launch(index);
        await WaitHealthyAsync(index);
    }

    /// <summary>Kills every node (the whole cluster goes away), as <see cref="Kill"/>.</summary>
    public void KillAll()
    {
        for (int i = 0; i < _nodes.Length; i++)
            Kill(i);
    }

    /// <summary>Starts every node again on its ports and store (all at once: one alone has no quorum to be healthy with), and waits until all are healthy.</summary>
    public async Task RestartAllAsync()
    {
        KillAll();
        for (int i = 0; i < _nodes.Length; i++)
            Launch(i);
        for (int i = 0; i < _nodes.Length; i++)
            await WaitHealthyAsync(i);
    }

    private void Launch(int index)
    {
        var node = _nodes[index];
        var start = new ProcessStartInfo("nats-server", ["-c", node.Config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("nats-server did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("nats-server is not installed: run scripts/install-test-deps.sh (it installs Debian's nats-server).", e);
        }
        // Drain its output so that a chatty server never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        node.Process = process;
    }

    private async Task WaitHealthyAsync(int index)
    {
        var node = _nodes[index];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (node.Process is { HasExited: true } exited)
                throw new InvalidOperationException($"nats-server {node.Name} exited with code {exited.ExitCode}.");
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{node.MonitorPort.ToString(CultureInfo.InvariantCulture)}/healthz");
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "timed out";
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"nats-server {node.Name} was not healthy within 30 s: {last}");
    }

    private static readonly HashSet<int> Handed = [];

    /// <summary>
    /// A free port below Linux's ephemeral range (32768 and up), where the kernel never puts a socket bound to port 0
    /// nor an outgoing connection: a port of the ephemeral range, free when picked, can go to another test's server
    /// before nats-server binds it, and the cluster's nodes then dial their routes into that server (at its
    /// connection limit, their silent connections pushed out a test's own). Never the same port twice per process.
    /// </summary>
    private static int FreePort()
    {
        lock (Handed)
        {
            while (true)
            {
                int port = Random.Shared.Next(20000, 32000);
                if (!Handed.Add(port))
                    continue;
                try
                {
                    using var socket = new TcpListener(IPAddress.Loopback, port);
                    socket.Start();
                    return port;
                }
                catch (SocketException)
                {
                }
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        for (int i = 0; i < _nodes.Length; i++)
            Kill(i);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
