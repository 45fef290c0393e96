using System.Text;

namespace Runnel.Client.FleetWorker;

/// <summary>
/// An append-only journal of one worker, one tab-separated line per event:
/// <c>ticks kind worker shard …</c>, where <c>ticks</c> is <see cref="DateTime.UtcNow"/>'s (one clock for every process
/// on the machine) and <c>kind</c> is <c>init</c> (checkpoint), <c>record</c> (sequence, sub-sequence, data),
/// <c>checkpoint</c> (sequence, sub-sequence), <c>end</c> (before the SHARD_END checkpoint), <c>lost</c> or
/// <c>shutdown</c>. Each line is written whole and handed to the kernel before the call that journals it returns, so a
/// SIGKILL leaves every line written before it; checkpoints are also fsync'd. Thread-safe: processors of several shards
/// write at once.
/// </summary>
internal sealed class FleetJournal : IDisposable
{
    private readonly FileStream _file;
    private readonly Lock _lock = new();

    public FleetJournal(string path) =>
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1, FileOptions.None);

    public void Write(string worker, string kind, string shard, bool durable, params string[] fields)
    {
        var line = new StringBuilder().Append(DateTime.UtcNow.Ticks).Append('\t').Append(kind).Append('\t').Append(worker).Append('\t').Append(shard);
        foreach (var field in fields)
            line.Append('\t').Append(field);
        line.Append('\n');
        var bytes = Encoding.UTF8.GetBytes(line.ToString());
        lock (_lock)
        {
            _file.Write(bytes);
            _file.Flush(flushToDisk: durable);
        }
    }

    public void Dispose() => _file.Dispose();
}
