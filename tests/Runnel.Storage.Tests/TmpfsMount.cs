using System.Diagnostics;
using System.Globalization;

namespace Runnel.Storage.Tests;

/// <summary>
/// A size-limited tmpfs mounted on a directory for one test, to fail the disk for real: remount it
/// read-only, or fill it. Needs root (or CAP_SYS_ADMIN); <see cref="TryMount"/> says why when it cannot,
/// so the test can skip visibly. Dispose unmounts it (lazily if something still holds a file open).
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);
    private bool _mounted;

    private TmpfsMount(string path)
    {
        Path = path;
        _mounted = true;
    }

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="sizeBytes"/> on <paramref name="path"/> (created if
    /// absent); null, with the reason, when this process may not mount.</summary>
    public static TmpfsMount? TryMount(string path, long sizeBytes, out string reason)
    {
        reason = "";
        if (!OperatingSystem.IsLinux())
        {
            reason = "tmpfs mounts need Linux";
            return null;
        }
        Directory.CreateDirectory(path);
        var (ok, output) = Run("mount", "-t", "tmpfs", "-o", "size=" + sizeBytes.ToString(CultureInfo.InvariantCulture), "tmpfs", path);
        if (!ok)
        {
            reason = $"cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): {output.Trim()}";
            return null;
        }
        return new TmpfsMount(path);
    }

    public void RemountReadOnly() => Remount("ro");

    /// <summary>Grows (or shrinks) the filesystem in place: a full disk given room again.</summary>
    public void Resize(long sizeBytes) => Remount("size=" + sizeBytes.ToString(CultureInfo.InvariantCulture));

    public void RemountReadWrite() => Remount("rw");

    private void Remount(string mode)
    {
        var (ok, output) = Run("mount", "-o", "remount," + mode, Path);
        if (!ok)
            throw new InvalidOperationException($"remount,{mode} of {Path} failed: {output}");
    }

    public void Dispose()
    {
        if (!_mounted)
            return;
        _mounted = false;
        Unmount(Path);
    }

    /// <summary>Unmounts <paramref name="path"/> (lazily if something still has a file open there: detached now,
    /// freed later) and removes the mount point.</summary>
    internal static void Unmount(string path)
    {
        if (!Run("umount", path).Ok)
            Run("umount", "-l", path);
        try { Directory.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    internal static (bool Ok, string Output) Run(string command, params string[] args)
    {
        var start = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(CommandTimeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return (false, $"{command} timed out");
            }
            return (process.ExitCode == 0, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (false, $"{command}: {e.Message}");
        }
    }
}
