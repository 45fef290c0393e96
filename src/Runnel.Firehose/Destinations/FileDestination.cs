using Runnel.Firehose.Delivery;
using Runnel.Storage;

namespace Runnel.Firehose.Destinations;

/// <summary>
/// The zero-setup destination (<c>file://DIR</c>): each object lands at <c>DIR/{key}</c>, the key laid out as S3's
/// would be (its slashes become directories). An object appears whole or not at all: it is written under a
/// temporary name beside its place, flushed to disk, renamed into place, and the directory flushed, so a crash
/// leaves at most a temporary file (named <c>.{name}.partial-{guid}</c>, which readers skip) and never a torn object.
/// Thread-safe: objects are written independently.
/// </summary>
public sealed class FileDestination(string root) : IObjectStore
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Location => Root;

    public Task WriteAsync(string key, ReadOnlyMemory<byte> payload, ObjectCompression compression, CancellationToken cancellationToken = default)
    {
        Write(key, payload, compression);
        return Task.CompletedTask;
    }

    /// <summary>Writes <paramref name="payload"/>, compressed, as the object <paramref name="key"/>; returns its path.
    /// A key that would leave the root (<c>..</c>, an absolute path) is refused with <see cref="ArgumentException"/>.</summary>
    public string Write(string key, ReadOnlyMemory<byte> payload, ObjectCompression compression)
    {
        string path = Path.GetFullPath(Path.Combine(Root, key));
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || key.EndsWith('/'))
            throw new ArgumentException($"The object key '{key}' does not name a file under {Root}.", nameof(key));
        string directory = Path.GetDirectoryName(path)!;
        MakeDirectory(directory);
        string partial = Path.Combine(directory, $".{Path.GetFileName(path)}.partial-{Guid.NewGuid():N}");
        try
        {
            using (var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                compression.Write(payload, file);
                file.Flush(flushToDisk: true);
            }
            File.Move(partial, path, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
        Posix.FlushDirectory(directory);
        return path;
    }

    /// <summary>Makes the directories an object needs, each one's entry made durable in its parent.</summary>
    private static void MakeDirectory(string directory)
    {
        var missing = new Stack<string>();
        for (string? d = directory; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d))
            missing.Push(d);
        Directory.CreateDirectory(directory);
        foreach (string made in missing)
            Posix.FlushDirectory(Path.GetDirectoryName(made)!);
    }
}
