using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Runnel.Storage;

/// <summary>
/// An exclusive lock on a data directory, held for the life of the process that serves it: two servers
/// on one directory would hand out the same sequence numbers and overwrite each other's segments.
/// <para>The lock is a <c>flock(LOCK_EX)</c> on <c>{dataDir}/runnel.lock</c>, so the kernel releases it when
/// the holder exits, however it exits (a kill -9 leaves no stale lock). The file's content names the holder
/// (process id, host, start time) for the error the next contender prints; the content is informational,
/// the lock is what counts. Locks are per open file, so a second lock from the same process fails too.</para>
/// Thread-safety: acquire once, dispose once.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    public const string FileName = "runnel.lock";
    private readonly SafeFileHandle _handle;

    private DataDirectoryLock(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>
    /// Takes the lock on <paramref name="dataDir"/> (created if absent) or throws
    /// <see cref="DataDirectoryInUseException"/> naming the process that holds it. A directory that cannot
    /// be written (a read-only filesystem) throws <see cref="IOException"/> or
    /// <see cref="UnauthorizedAccessException"/> with the system's reason.
    /// </summary>
    public static DataDirectoryLock Acquire(string dataDir, TimeProvider? clock = null)
    {
        Directory.CreateDirectory(dataDir);
        string path = System.IO.Path.Combine(dataDir, FileName);
        var handle = OperatingSystem.IsLinux() ? OpenAndLock(path, dataDir) : OpenWithDotNetLock(path, dataDir);
        try
        {
            string holder = string.Create(CultureInfo.InvariantCulture,
                $"pid {Environment.ProcessId} on {Environment.MachineName}, started {(clock ?? TimeProvider.System).GetUtcNow():yyyy-MM-ddTHH:mm:ssZ}\n");
            RandomAccess.SetLength(handle, 0);
            RandomAccess.Write(handle, System.Text.Encoding.UTF8.GetBytes(holder), 0);
            return new DataDirectoryLock(handle, path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Linux: open(2) and flock(2) directly. .NET's own advisory locking (a shared flock on every file opened
    /// for sharing) would make the contender fail at open with a sharing violation that names nobody; a
    /// descriptor of our own can still read who holds the lock.
    /// </summary>
    private static SafeFileHandle OpenAndLock(string path, string dataDir)
    {
        int fd = Posix.Open(path, Posix.OpenReadWrite | Posix.OpenCreate, 0x1A4 /* 0644 */);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw errno switch
            {
                Posix.ReadOnlyFilesystem => new IOException($"Read-only file system: '{path}'", Posix.ReadOnlyFilesystem),
                Posix.PermissionDenied => new UnauthorizedAccessException($"Access to the path '{path}' is denied."),
                _ => new IOException($"Could not open {path}: {Marshal.GetPInvokeErrorMessage(errno)}.", errno),
            };
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (!TryFlock(fd, out int lockError))
        {
            string? holder = lockError == Posix.WouldBlock ? ReadHolder(handle) : null;
            handle.Dispose();
            if (lockError != Posix.WouldBlock)
                throw new IOException($"Could not lock {path}: {Marshal.GetPInvokeErrorMessage(lockError)}.", lockError);
            throw new DataDirectoryInUseException(System.IO.Path.GetFullPath(dataDir), holder);
        }
        return handle;
    }

    /// <summary>
    /// flock(LOCK_EX | LOCK_NB), tried again for up to <see cref="ReleaseGrace"/> while another holds it. A lock
    /// can outlive its holder's close by a moment: a process forked by any thread of the holder (a child
    /// process being started) shares the descriptor until it execs, so a server stopped and started again at
    /// once in one process, or restarted by a supervisor, would otherwise be refused by its own past.
    /// </summary>
    private static bool TryFlock(int fd, out int errno)
    {
        long deadline = Environment.TickCount64 + (long)ReleaseGrace.TotalMilliseconds;
        while (true)
        {
            if (Posix.Flock(fd, Posix.LockExclusive | Posix.LockNonBlocking) == 0)
            {
                errno = 0;
                return true;
            }
            errno = Marshal.GetLastPInvokeError();
            if (errno != Posix.WouldBlock || Environment.TickCount64 >= deadline)
                return false;
            Thread.Sleep(20);
        }
    }

    /// <summary>How long a contended lock is tried again before the directory is reported in use.</summary>
    public static readonly TimeSpan ReleaseGrace = TimeSpan.FromSeconds(1);

    /// <summary>Elsewhere: .NET's FileShare.None, which is an exclusive flock on Unix and a share mode on Windows.</summary>
    private static SafeFileHandle OpenWithDotNetLock(string path, string dataDir)
    {
        try
        {
            return File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(path))
        {
            throw new DataDirectoryInUseException(System.IO.Path.GetFullPath(dataDir), null);
        }
    }

    private static string? ReadHolder(SafeFileHandle handle)
    {
        try
        {
            var buffer = new byte[256];
            int read = RandomAccess.Read(handle, buffer, 0);
            string text = System.Text.Encoding.UTF8.GetString(buffer, 0, read).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Releases the lock (closing the file releases the flock). The file stays: deleting it would race a contender.</summary>
    public void Dispose() => _handle.Dispose();
}

/// <summary>Another process (or another server in this one) serves the data directory.</summary>
public sealed class DataDirectoryInUseException(string dataDir, string? holder)
    : IOException($"The data directory {dataDir} is in use by another Runnel server ({holder ?? "holder unknown"}). " +
        "Stop that server first, or give this one another --data-dir.")
{
    public string DataDir { get; } = dataDir;

    public string? Holder { get; } = holder;
}
