using Runnel.Storage;
using Runnel.Storage.Log;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Storage;

/// <summary>The single node's storage: SQLite metadata and segment-file logs under the data directory, which it locks.</summary>
public sealed class EmbeddedStorage : ServerStorage
{
    private readonly DataDirectoryLock _lock;
    private readonly MetadataStore _metadata;
    private readonly LogStore _logs;
    private readonly string _directory;

    private EmbeddedStorage(DataDirectoryLock directoryLock, MetadataStore metadata, LogStore logs, string directory)
    {
        _lock = directoryLock;
        _metadata = metadata;
        _logs = logs;
        _directory = directory;
    }

    /// <summary>Locks the data directory first (a second server on it would corrupt it), then opens what is in it.</summary>
    public static EmbeddedStorage OpenDirectory(RunnelOptions options, TimeProvider clock, Action<string> warn)
    {
        var directoryLock = DataDirectoryLock.Acquire(options.DataDir, clock);
        MetadataStore? metadata = null;
        try
        {
            metadata = new MetadataStore(options.DataDir);
            var logs = new LogStore(options.DataDir, options.Log with { Clock = clock }, warn);
            return new EmbeddedStorage(directoryLock, metadata, logs, options.DataDir);
        }
        catch
        {
            // Closed now, not by a finalizer: `runnel repair` may open this directory next in the same process.
            metadata?.Dispose();
            directoryLock.Dispose();
            throw;
        }
    }

    public override IMetadataStore Metadata => _metadata;

    public override IShardStore Logs => _logs;

    public override string Description => $"data {Path.GetFullPath(_directory)}";

    public override string? LocalDirectory => _directory;

    public override bool Leads => true;

    public override bool SweepsOrphansAtStart => true;

    public override ValueTask DisposeAsync()
    {
        try
        {
            _logs.Dispose();
            _metadata.Dispose();
        }
        finally
        {
            _lock.Dispose(); // last: the directory is free only once everything in it is closed
        }
        return ValueTask.CompletedTask;
    }
}
