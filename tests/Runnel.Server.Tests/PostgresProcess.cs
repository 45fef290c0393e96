using System.Diagnostics;
using System.Net.Sockets;

namespace Runnel.Server.Tests;

/// <summary>
/// A real PostgreSQL for a test (Debian's, installed by scripts/install-test-deps.sh): a cluster made by initdb in a
/// directory of its own (as the postgres user when the tests run as root, which PostgreSQL refuses to run as), trust
/// authentication, on 127.0.0.1 and a free port. Stopped and deleted when disposed.
/// </summary>
public sealed class PostgresProcess : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "runnel-postgres-" + Guid.NewGuid().ToString("N"));
    private readonly string _bin;
    private Process? _server;

    private PostgresProcess(string bin, int port)
    {
        _bin = bin;
        Port = port;
    }

    public int Port { get; }

    /// <summary>A connection string to <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database = "postgres") => $"Host=127.0.0.1;Port={Port};Database={database};Username=postgres;Timeout=10";

    public static async Task<PostgresProcess> StartAsync()
    {
        string bin = Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            ?? throw new FileNotFoundException("PostgreSQL is not installed: run scripts/install-test-deps.sh.");
        using var probe = new TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var postgres = new PostgresProcess(bin, port);
        await postgres.InitAsync();
        return postgres;
    }

    private bool AsRoot => Environment.UserName == "root";

    private ProcessStartInfo Command(string program, params string[] args)
    {
        var start = AsRoot ? new ProcessStartInfo("runuser") : new ProcessStartInfo(program);
        if (AsRoot)
            foreach (string arg in new[] { "-u", "postgres", "--", program })
                start.ArgumentList.Add(arg);
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        return start;
    }

    private async Task InitAsync()
    {
        string data = Path.Combine(_directory, "data");
        Directory.CreateDirectory(_directory);
        if (AsRoot)
            Run("chown", "postgres:postgres", _directory);
        using (var init = Process.Start(Command(Path.Combine(_bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"))!)
        {
            string errors = await init.StandardError.ReadToEndAsync();
            await init.WaitForExitAsync();
            if (init.ExitCode != 0)
                throw new InvalidOperationException($"initdb failed: {errors}");
        }
        await LaunchAsync();
    }

    /// <summary>Kills the server (SIGKILL, as a crash or a host going away); <see cref="StartAgainAsync"/> brings it back.</summary>
    public void Kill()
    {
        // The postmaster by the PID it wrote (under runuser it is not always found as the launcher's descendant).
        string pidFile = Path.Combine(_directory, "data", "postmaster.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out int pid))
        {
            try
            {
                using var postmaster = Process.GetProcessById(pid);
                postmaster.Kill(entireProcessTree: true);
                postmaster.WaitForExit(10_000);
            }
            catch (ArgumentException)
            {
                // gone already
            }
        }
        if (_server is { HasExited: false } server)
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit(10_000);
        }
        _server?.Dispose();
        _server = null;
    }

    /// <summary>Starts the server again on its port and data, and waits until it accepts connections (its killed
    /// backends may hold the shared memory a moment longer: it is started again until they are gone).</summary>
    public async Task StartAgainAsync()
    {
        Npgsql.NpgsqlConnection.ClearAllPools(); // the test's own pooled connections died with the server
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await LaunchAsync();
                return;
            }
            catch (InvalidOperationException) when (attempt < 10 && _server is { HasExited: true })
            {
                await Task.Delay(500);
            }
        }
    }

    private async Task LaunchAsync()
    {
        string data = Path.Combine(_directory, "data");
        _server = Process.Start(Command(Path.Combine(_bin, "postgres"), "-D", data, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", $"unix_socket_directories={_directory}", "-c", "fsync=off"))!;
        var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _server.ErrorDataReceived += (_, line) => { if (line.Data is { } text && said.Count < 50) said.Enqueue(text); };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline && !_server.HasExited; await Task.Delay(100))
        {
            try
            {
                await using var connection = new Npgsql.NpgsqlConnection(ConnectionString());
                await connection.OpenAsync();
                return;
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or SocketException)
            {
            }
        }
        throw new InvalidOperationException($"PostgreSQL did not accept connections on {Port} within 30 s (exited: {_server.HasExited}): {string.Join(" | ", said)}");
    }

    /// <summary>Runs SQL as the superuser.</summary>
    public async Task ExecuteAsync(string sql, string database = "postgres")
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The rows of a query, each as its values' text.</summary>
    public async Task<List<string?[]>> QueryAsync(string sql, string database = "postgres")
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string?[]>();
        while (await reader.ReadAsync())
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))]);
        return rows;
    }

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(program, args);
        process.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
