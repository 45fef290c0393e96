using Microsoft.Data.Sqlite;

namespace Runnel.Storage;

/// <summary>Conditions of the disk under the data directory that an operator, not a code change, must fix.</summary>
public enum StorageFaultKind
{
    /// <summary>No space left (ENOSPC, EDQUOT, SQLITE_FULL).</summary>
    DiskFull,

    /// <summary>The filesystem is read-only (EROFS, SQLITE_READONLY).</summary>
    ReadOnly,

    /// <summary>The device reported an I/O error (EIO, SQLITE_IOERR).</summary>
    IoError,

    /// <summary>The cluster that holds the data (JetStream) did not answer: servers down, unreachable, or electing a leader.</summary>
    Unavailable,

    /// <summary>The cluster that holds the data (JetStream) refused a write for want of room (its store limit or disk).</summary>
    ClusterFull,
}

/// <summary>
/// Recognises an exception from the log or the metadata store as a condition of the disk (full, read-only,
/// failing) rather than a bug, and says it in words an operator can act on.
/// </summary>
public static class StorageFault
{
    // Linux errno values as .NET carries them in IOException.HResult on Unix.
    private const int Eio = 5, Enospc = 28, Erofs = 30, Edquot = 122;
    // SQLite primary result codes.
    private const int SqliteReadOnly = 8, SqliteIoError = 10, SqliteFull = 13;

    /// <summary>
    /// The disk condition behind <paramref name="e"/> (searching its inner exceptions), or null when it is something
    /// else. SQLite reports a write refused by a read-only filesystem as a plain I/O error; with
    /// <paramref name="dataDir"/> given, an I/O error there is told apart by asking the filesystem.
    /// </summary>
    public static StorageFaultKind? Classify(Exception e, string? dataDir)
    {
        var kind = Classify(e);
        if (kind == StorageFaultKind.IoError && dataDir is not null && Posix.IsOnReadOnlyFilesystem(dataDir))
            return StorageFaultKind.ReadOnly;
        return kind;
    }

    /// <summary>The disk condition behind <paramref name="e"/> (searching its inner exceptions), or null when it is something else.</summary>
    public static StorageFaultKind? Classify(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case ReadOnlyStorageException:
                    return StorageFaultKind.ReadOnly;
                case StorageUnavailableException:
                    return StorageFaultKind.Unavailable;
                case StorageFullException:
                    return StorageFaultKind.ClusterFull;
                case SqliteException sqlite:
                    switch (sqlite.SqliteErrorCode & 0xFF)
                    {
                        case SqliteFull: return StorageFaultKind.DiskFull;
                        case SqliteReadOnly: return StorageFaultKind.ReadOnly;
                        case SqliteIoError: return StorageFaultKind.IoError;
                    }
                    break;
                case IOException io:
                    switch (io.HResult & 0xFFFF)
                    {
                        case Enospc or Edquot: return StorageFaultKind.DiskFull;
                        case Erofs: return StorageFaultKind.ReadOnly;
                        case Eio: return StorageFaultKind.IoError;
                    }
                    if (io.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
                        || io.Message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase))
                        return StorageFaultKind.DiskFull;
                    if (io.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase))
                        return StorageFaultKind.ReadOnly;
                    break;
            }
        }
        return null;
    }

    /// <summary>
    /// Whether <paramref name="e"/> says the data directory cannot be written at all (a read-only filesystem, or
    /// no permission), as opposed to any other I/O failure: the log then opens read-only, and start-up says so.
    /// </summary>
    public static bool IsNotWritable(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is UnauthorizedAccessException || x is IOException { HResult: var code } && (code & 0xFFFF) == Posix.PermissionDenied)
                return true;
        return Classify(e) == StorageFaultKind.ReadOnly;
    }

    /// <summary>A few words for logs, /health and error messages: "disk full", "read-only filesystem", "disk I/O error".</summary>
    public static string Describe(StorageFaultKind kind) => kind switch
    {
        StorageFaultKind.DiskFull => "disk full",
        StorageFaultKind.ReadOnly => "read-only filesystem",
        StorageFaultKind.Unavailable => "storage cluster not answering",
        StorageFaultKind.ClusterFull => "storage cluster full",
        _ => "disk I/O error",
    };

    /// <summary>What a client is told of a request the condition failed (the log tells the operator more), without a final period.</summary>
    public static string ClientDetail(StorageFaultKind kind) => kind switch
    {
        // The request may or may not have been carried out, as with any request that times out.
        StorageFaultKind.Unavailable => "the server's storage cluster (NATS JetStream) is not answering; retry later",
        StorageFaultKind.ClusterFull => "the server's storage cluster (NATS JetStream) is full; nothing was stored, retry later",
        _ => Runnel.Core.Errors.KinesisErrors.StorageFailure(Describe(kind)),
    };

    /// <summary>What the operator should do about it.</summary>
    public static string Remedy(StorageFaultKind kind) => kind switch
    {
        StorageFaultKind.DiskFull => "Free space on the filesystem of the data directory (or shorten retention); writes resume by themselves once there is room.",
        StorageFaultKind.ReadOnly => "Remount the data directory's filesystem read-write (the kernel may have made it read-only after disk errors: check dmesg); reads still work.",
        StorageFaultKind.Unavailable => "Check that the NATS servers given to --nats are running and reachable from this node and that JetStream has a leader " +
            "(nats-server's log, or 'nats stream info'); requests succeed again by themselves once it answers.",
        StorageFaultKind.ClusterFull => "JetStream is at its storage limit ('JetStream resource limits exceeded' in nats-server's log): raise max_file_store in the " +
            "NATS servers' jetstream block, free space under their store_dir, or shorten streams' retention; writes resume by themselves once there is room.",
        _ => "Check the disk (dmesg, SMART); Runnel keeps serving what it can read.",
    };
}

/// <summary>A write refused because the data directory cannot be written (read-only filesystem or permissions),
/// found before any write was tried; carries EROFS as its HResult like the system's own error.</summary>
public sealed class ReadOnlyStorageException : IOException
{
    public ReadOnlyStorageException(string message, Exception? inner)
        : base(message, inner)
    {
        HResult = 30; // EROFS
    }
}

/// <summary>A storage cluster (JetStream) that did not answer in time or could not be reached: the request may
/// succeed when tried again, and no code change fixes it.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner) : IOException(message, inner);

/// <summary>The cluster's storage (JetStream) refused a write for want of room: nothing of it was stored.</summary>
public sealed class StorageFullException(string message) : IOException(message);
