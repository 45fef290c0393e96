using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;
using Runnel.Storage.Log;

namespace Runnel.Storage.Tests.Crash;

/// <summary>
/// A disk that can lose power: every change the log makes goes to the real files (so the log runs as usual) through
/// this <see cref="DiskIo"/>, which also keeps what a power loss would leave. A file's content is durable as of its last
/// fsync; a name (a file created, renamed or deleted) as of the last fsync of its directory. <see cref="CrashImage"/>
/// writes what the disk would hold after losing power now: each durably named file with its durable content plus a
/// prefix, cut at any byte, of what was appended to it since (the unsynced tail a disk may or may not have written);
/// files whose names were never made durable are gone, names deleted since are back. Directories are taken as durable
/// (the log fsyncs them on creation through the OS, not through this seam). Thread-safe: one lock orders every call,
/// so an image is never taken in the middle of a write.
/// </summary>
public sealed class PowerLossDisk : DiskIo
{
    private sealed class Inode
    {
        public byte[] Durable = [];
    }

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Inode> _live = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Inode> _durableNames = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<SafeFileHandle, string> _paths = [];
    private readonly string _root;

    /// <summary>Tracks every file under <paramref name="root"/> as it is now, all of it durable (a disk just recovered).</summary>
    public PowerLossDisk(string root)
    {
        _root = Path.GetFullPath(root);
        foreach (string file in Directory.Exists(_root) ? Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories) : [])
        {
            var inode = new Inode { Durable = File.ReadAllBytes(file) };
            _live[file] = inode;
            _durableNames[file] = inode;
        }
    }

    /// <summary>fsyncs seen (of files and directories): how much durability the run asked for.</summary>
    public int Fsyncs { get; private set; }

    private int _operationsLeft = -1;
    private string? _imageTarget;
    private Random? _imageRandom;

    /// <summary>Unsynced bytes the scheduled power loss dropped (the rest of the cut tails were kept).</summary>
    public long Dropped { get; private set; }

    /// <summary>True once the scheduled power loss happened: from then on nothing the log does counts.</summary>
    public bool PowerLost => Volatile.Read(ref _powerLost);

    private bool _powerLost;

    /// <summary>Loses power right after the <paramref name="operations"/>-th change from now (a write, fsync, truncation,
    /// rename, delete or directory fsync), writing the crash image into <paramref name="target"/>: the moment may fall
    /// between a write and its fsync, so that written, unacknowledged bytes are cut.</summary>
    public void ScheduleCrash(int operations, string target, Random random)
    {
        lock (_gate)
        {
            _operationsLeft = operations;
            _imageTarget = target;
            _imageRandom = random;
        }
    }

    /// <summary>Called under the lock after each change: takes the image when the scheduled moment has come.</summary>
    private void Counted()
    {
        if (_operationsLeft < 0 || --_operationsLeft > 0)
            return;
        _operationsLeft = -1;
        Dropped = CrashImage(_imageTarget!, _imageRandom!);
        Volatile.Write(ref _powerLost, true);
    }

    public override SafeFileHandle Open(string path, FileMode mode, FileAccess access, FileShare share)
    {
        path = Path.GetFullPath(path);
        lock (_gate)
        {
            bool existed = File.Exists(path);
            var handle = base.Open(path, mode, access, share);
            if (!existed || !_live.ContainsKey(path))
                _live[path] = new Inode(); // a new file: empty until an fsync says otherwise
            _paths.AddOrUpdate(handle, path);
            return handle;
        }
    }

    public override void Write(SafeFileHandle handle, ReadOnlySpan<byte> bytes, long offset)
    {
        lock (_gate)
        {
            base.Write(handle, bytes, offset);
            Counted();
        }
    }

    public override void Write(SafeFileHandle handle, IReadOnlyList<ReadOnlyMemory<byte>> buffers, long offset)
    {
        lock (_gate)
        {
            base.Write(handle, buffers, offset);
            Counted();
        }
    }

    public override void FlushToDisk(SafeFileHandle handle)
    {
        lock (_gate)
        {
            base.FlushToDisk(handle);
            Fsyncs++;
            if (_paths.TryGetValue(handle, out string? path) && _live.TryGetValue(path, out var inode))
                inode.Durable = Current(path) ?? inode.Durable;
            Counted();
        }
    }

    public override void SetLength(SafeFileHandle handle, long length)
    {
        lock (_gate)
        {
            base.SetLength(handle, length);
            Counted();
        }
    }

    public override void Move(string from, string to)
    {
        from = Path.GetFullPath(from);
        to = Path.GetFullPath(to);
        lock (_gate)
        {
            base.Move(from, to);
            if (_live.Remove(from, out var inode))
                _live[to] = inode;
            Counted();
        }
    }

    public override void Delete(string path)
    {
        path = Path.GetFullPath(path);
        lock (_gate)
        {
            base.Delete(path);
            _live.Remove(path);
            Counted();
        }
    }

    public override void FlushDirectory(string directory)
    {
        string prefix = Path.GetFullPath(directory).TrimEnd('/') + "/";
        lock (_gate)
        {
            base.FlushDirectory(directory);
            Fsyncs++;
            foreach (string name in _durableNames.Keys.Where(n => InDirectory(n, prefix)).ToList())
                _durableNames.Remove(name);
            foreach (var (name, inode) in _live)
                if (InDirectory(name, prefix))
                    _durableNames[name] = inode;
            Counted();
        }
    }

    private static bool InDirectory(string path, string prefix) =>
        path.StartsWith(prefix, StringComparison.Ordinal) && path.IndexOf('/', prefix.Length) < 0;

    /// <summary>
    /// Writes into <paramref name="target"/> what the disk would hold after a power loss now: durable names with durable
    /// content, each followed by a prefix of its unsynced appended bytes of a length drawn from <paramref name="random"/>
    /// (none, all, or any byte between). Returns the unsynced bytes dropped, for the report.
    /// </summary>
    public long CrashImage(string target, Random random)
    {
        long dropped = 0;
        lock (_gate) // re-entered from Counted: the lock is recursive
        {
            foreach (var (name, inode) in _durableNames)
            {
                byte[] content = inode.Durable;
                string? livePath = _live.FirstOrDefault(l => ReferenceEquals(l.Value, inode)).Key;
                if (livePath is not null && Current(livePath) is { } now && now.Length > content.Length && now.AsSpan(0, content.Length).SequenceEqual(content))
                {
                    int kept = random.Next(0, now.Length - content.Length + 1);
                    dropped += now.Length - content.Length - kept;
                    content = now[..(content.Length + kept)];
                }
                string copy = Path.Combine(target, Path.GetRelativePath(_root, name));
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.WriteAllBytes(copy, content);
            }
            foreach (string directory in Directory.EnumerateDirectories(_root, "*", SearchOption.AllDirectories))
                Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(_root, directory)));
        }
        return dropped;
    }

    /// <summary>The file's bytes as the OS has them now, or null when it is gone.</summary>
    private static byte[]? Current(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }
}
