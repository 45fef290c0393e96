namespace Runnel.Storage.Metadata;

/// <summary>
/// What a service other than the streams keeps in the metadata store (a Firehose delivery stream, its positions,
/// …): a body in that service's own format, under a kind and a key, with the store's revision of it. Revisions
/// only grow, across kinds, keys and deletions, so a revision read before a document was deleted and made again
/// never matches the new one. docs/formats/metadata.md and docs/formats/jetstream.md give the layouts.
/// </summary>
public sealed record MetadataDocument(string Kind, string Key, byte[] Body, ulong Revision)
{
    /// <summary>Longest key, in UTF-8 bytes: names and ARNs fit, and a cluster's key-value key stays short.</summary>
    public const int MaxKeyBytes = 256;

    /// <summary>Throws <see cref="ArgumentException"/> for a kind that is not 1-32 of a-z, 0-9 and '-' starting with a
    /// letter, or a key that is empty or longer than <see cref="MaxKeyBytes"/>: these are the caller's mistakes.</summary>
    public static void Check(string kind, string? key = null)
    {
        if (kind.Length is 0 or > 32 || kind[0] is < 'a' or > 'z' || kind.Any(c => c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')))
            throw new ArgumentException($"A document kind is 1-32 characters of a-z, 0-9 and '-', starting with a letter; not '{kind}'.", nameof(kind));
        if (key is not null && (key.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(key) > MaxKeyBytes))
            throw new ArgumentException($"A document key is 1-{MaxKeyBytes} UTF-8 bytes; '{key}' is not.", nameof(key));
    }
}

/// <summary>A document was not written: the one stored is not at the revision the writer read (null: none is stored).</summary>
public sealed class DocumentConflictException(string kind, string key, MetadataDocument? current)
    : Exception($"The {kind} document '{key}' changed since it was read" + (current is null ? " (it is gone)." : $" (now at revision {current.Revision})."))
{
    public MetadataDocument? Current { get; } = current;
}
