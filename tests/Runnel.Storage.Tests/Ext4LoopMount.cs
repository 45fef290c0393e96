
namespace Runnel.Storage.Tests;

/// <summary>
/// A small ext4 filesystem in an image file, loop-mounted for one test with <c>errors=remount-ro</c>, so that it
/// can go read-only the way a kernel makes a disk read-only after an error: <see cref="Abort"/> (ext4's
/// <c>abort</c> mount option) turns every later write into EROFS even for files already open for writing,
/// which a plain <c>remount,ro</c> refuses ("mount point is busy"). Needs root, mkfs.ext4 and a loop device;
/// <see cref="TryMount"/> says why when it cannot.
/// </summary>
public sealed class Ext4LoopMount : IDisposable
{
    private readonly string _image;
    private bool _mounted;

    private Ext4LoopMount(string path, string image)
    {
        Path = path;
        _image = image;
        _mounted = true;
    }

    /// <summary>The mount point.</summary>
    public string Path { get; }

    public static Ext4LoopMount? TryMount(string path, long sizeBytes, out string reason)
    {
        reason = "";
        if (!OperatingSystem.IsLinux())
        {
            reason = "loop-mounted ext4 needs Linux";
            return null;
        }
        Directory.CreateDirectory(path);
        string image = path + ".img";
        using (var file = File.Create(image))
            file.SetLength(sizeBytes);
        var (made, makeOutput) = TmpfsMount.Run("mkfs.ext4", "-q", "-F", image);
        if (!made)
        {
            File.Delete(image);
            reason = $"mkfs.ext4 failed: {makeOutput.Trim()}";
            return null;
        }
        var (mounted, mountOutput) = TmpfsMount.Run("mount", "-o", "loop,errors=remount-ro", image, path);
        if (!mounted)
        {
            File.Delete(image);
            reason = $"cannot loop-mount an ext4 image (needs root and a loop device): {mountOutput.Trim()}";
            return null;
        }
        return new Ext4LoopMount(path, image);
    }

    /// <summary>Makes the filesystem read-only under whatever has files open on it, as after a disk error.</summary>
    public void Abort()
    {
        var (ok, output) = TmpfsMount.Run("mount", "-o", "remount,abort", Path);
        if (!ok)
            throw new InvalidOperationException($"remount,abort of {Path} failed: {output}");
    }

    public void Dispose()
    {
        if (!_mounted)
            return;
        _mounted = false;
        TmpfsMount.Unmount(Path);
        try { File.Delete(_image); } catch (IOException) { }
    }
}
