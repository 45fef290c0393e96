using System.Runtime.InteropServices;

namespace Runnel.Storage;

/// <summary>
/// The few system calls .NET does not expose: open(2) of a directory (to fsync it), flock(2) without .NET's own
/// advisory locking in the way. Linux values; callers skip these elsewhere.
/// </summary>
internal static class Posix
{
    public const int OpenReadOnly = 0, OpenReadWrite = 2, OpenCreate = 0x40, OpenCloseOnExec = 0x80000;
    public const int LockExclusive = 2, LockNonBlocking = 4;
    public const int WouldBlock = 11, PermissionDenied = 13, InvalidArgument = 22, ReadOnlyFilesystem = 30, NotSupported = 95;

    /// <summary>open(2): a descriptor, or -1 with the error in <see cref="Marshal.GetLastPInvokeError"/>.</summary>
    public static int Open(string path, int flags, int mode = 0) =>
        OpenRaw(System.Text.Encoding.UTF8.GetBytes(path + "\0"), flags | OpenCloseOnExec, mode);

    /// <summary>
    /// Makes the entries of <paramref name="directory"/> (files created, renamed or deleted in it) durable:
    /// fsync of the directory itself, which .NET cannot open. Throws <see cref="IOException"/> when it fails;
    /// does nothing off Linux.
    /// </summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        int fd = Open(Path.GetFullPath(directory), OpenReadOnly);
        if (fd < 0)
            throw Error($"Could not open the directory {directory} to flush it");
        try
        {
            // Some filesystems cannot fsync a directory (EINVAL, EOPNOTSUPP): nothing more can be done there.
            if (Fsync(fd) != 0 && Marshal.GetLastPInvokeError() is not (InvalidArgument or NotSupported))
                throw Error($"Could not flush the directory {directory}");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>An IOException with the last system error, its errno as HResult (as .NET's own I/O errors carry it).</summary>
    public static IOException Error(string what)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{what}: {Marshal.GetPInvokeErrorMessage(errno)}.", errno);
    }

    /// <summary>
    /// True when the directory <paramref name="directory"/> lies on a filesystem mounted, or after a disk error forced,
    /// read-only. access(2) sees a read-only mount; a filesystem that shut itself down after an error (ext4's
    /// emergency read-only) only shows when a file is created, so a probe file is tried too (and removed).
    /// </summary>
    public static bool IsOnReadOnlyFilesystem(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return false;
        const int writable = 2; // W_OK
        string full = Path.GetFullPath(directory);
        if (Access(System.Text.Encoding.UTF8.GetBytes(full + "\0"), writable) != 0)
            return Marshal.GetLastPInvokeError() == ReadOnlyFilesystem;
        string probe = Path.Combine(full, ".runnel-write-probe");
        int fd = Open(probe, OpenReadWrite | OpenCreate, 0x180 /* 0600 */);
        if (fd < 0)
            return Marshal.GetLastPInvokeError() == ReadOnlyFilesystem;
        _ = Close(fd);
        try { File.Delete(probe); } catch (IOException) { }
        return false;
    }

    [DllImport("libc", EntryPoint = "access", SetLastError = true)]
    private static extern int Access(byte[] path, int mode);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenRaw(byte[] path, int flags, int mode);

    [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static extern int Flock(int fd, int operation);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);
}
