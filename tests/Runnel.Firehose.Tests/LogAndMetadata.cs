using Runnel.Storage.Log;
using Runnel.Storage.Metadata;

namespace Runnel.Firehose.Tests;

/// <summary>What a delivery test reads from and writes its position to: a shard log and a metadata store in a directory of its own, deleted after.</summary>
public abstract class LogAndMetadata : IDisposable
{
    protected LogAndMetadata(string tag)
    {
        Dir = Path.Combine(Path.GetTempPath(), $"runnel-{tag}-" + Guid.NewGuid().ToString("N"));
        Log = ShardLog.Open(Path.Combine(Dir, "log"), new LogOptions { Fsync = FsyncPolicy.Never });
        Metadata = new MetadataStore(Path.Combine(Dir, "meta"));
    }

    protected string Dir { get; }

    protected ShardLog Log { get; }

    protected MetadataStore Metadata { get; }

    public void Dispose()
    {
        Log.Dispose();
        Metadata.Dispose();
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
