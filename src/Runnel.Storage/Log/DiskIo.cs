using Microsoft.Win32.SafeHandles;

namespace Runnel.Storage.Log;

/// <summary>
/// Every call by which the embedded log changes its files or asks for their durability: opening for write, writing,
/// fsync, truncating, renaming, deleting, fsyncing a directory. The log's one seam onto the disk, so that a test can
/// stand between them and model a power loss: which writes a crash keeps, cut at any byte, and which it drops for
/// never having been fsynced (tests/Runnel.Storage.Tests/Crash/PowerLossTests.cs). Reads go to the files directly:
/// they see what the OS sees. The default is the real disk. Implementations are thread-safe.
/// </summary>
public class DiskIo
{
    public static readonly DiskIo Real = new();

    public virtual SafeFileHandle Open(string path, FileMode mode, FileAccess access, FileShare share) => File.OpenHandle(path, mode, access, share);

    public virtual void Write(SafeFileHandle handle, ReadOnlySpan<byte> bytes, long offset) => RandomAccess.Write(handle, bytes, offset);

    public virtual void Write(SafeFileHandle handle, IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset) => RandomAccess.Write(handle, buffers, offset);

    public virtual void FlushToDisk(SafeFileHandle handle) => RandomAccess.FlushToDisk(handle);

    public virtual void SetLength(SafeFileHandle handle, long length) => RandomAccess.SetLength(handle, length);

    public virtual void Move(string from, string to) => File.Move(from, to, overwrite: true);

    public virtual void Delete(string path) => File.Delete(path);

    public virtual void FlushDirectory(string directory) => Posix.FlushDirectory(directory);
}
