namespace Runnel.Storage.Log;

/// <summary>When the log asks the OS to put written records on stable storage.</summary>
public enum FsyncPolicy
{
    /// <summary>Before acknowledging: concurrent appends to a shard share one fsync (group commit).
    /// Survives power loss.</summary>
    Always,

    /// <summary>Every <see cref="LogOptions.FsyncInterval"/>: a power loss can lose that much acknowledged data;
    /// a process crash loses nothing.</summary>
    Interval,

    /// <summary>Never explicitly; the OS writes back when it chooses. A process crash loses nothing,
    /// a power loss can lose whatever the OS had not written back.</summary>
    Never,
}

/// <summary>Settings of the embedded segment-file log.</summary>
public sealed record LogOptions
{
    /// <summary>The fsync policy; see <see cref="FsyncPolicy"/>.</summary>
    public FsyncPolicy Fsync { get; init; } = FsyncPolicy.Interval;

    /// <summary>How often dirty shards are flushed under <see cref="FsyncPolicy.Interval"/>.</summary>
    public TimeSpan FsyncInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>A segment is sealed and a new one started once it holds this many bytes.</summary>
    public long SegmentBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>A segment is sealed once its first record is this old, so retention can free its space.</summary>
    public TimeSpan SegmentMaxAge { get; init; } = TimeSpan.FromHours(1);

    /// <summary>One index entry at least every this many bytes of a segment. Every segment's index is held in
    /// memory until the segment is deleted, 24 bytes an entry: at 4 KiB that was 6 MiB per GiB stored (48 MiB
    /// for 8 GiB); at 16 KiB it is a quarter of that, and a seek reads at most 16 KiB more, within the
    /// 64 KiB a read fetches anyway.</summary>
    public int IndexIntervalBytes { get; init; } = 16 * 1024;

    /// <summary>Where the indexes of sealed segments are kept while in use (bounded; see <see cref="SealedIndexCache"/>).</summary>
    public SealedIndexCache IndexCache { get; init; } = SealedIndexCache.Shared;

    /// <summary>The server's one clock: arrival times, segment ages and idle intervals are read from it.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The calls that change the log's files (the real disk; a test's power-loss model).</summary>
    public DiskIo Io { get; init; } = DiskIo.Real;

    /// <summary>A shard's open file handle is closed after this long without appends.</summary>
    public TimeSpan IdleHandleTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
