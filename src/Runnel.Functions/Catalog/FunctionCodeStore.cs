using System.Globalization;
using Runnel.Storage.Metadata;

namespace Runnel.Functions.Catalog;

/// <summary>
/// Uploaded Zip code (<c>ZipFile</c>) kept in the metadata store, so that every node of either backend can run it:
/// documents of kind <see cref="Kind"/>, keyed <c>NAME/SHA/NNNNN</c> (the function's name, its code's SHA-256 in hex,
/// the chunk's index), each at most <see cref="ChunkBytes"/> (docs/formats/functions.md). Thread-safe.
/// </summary>
public sealed class FunctionCodeStore(IMetadataStore store)
{
    public const string Kind = "function-code";

    /// <summary>A chunk's size: well under a JetStream message's default limit of 1 MiB.</summary>
    public const int ChunkBytes = 256 * 1024;

    /// <summary>Stores the code and gives the number of chunks written.</summary>
    public int Save(string function, string sha256Hex, ReadOnlySpan<byte> zip)
    {
        int chunks = 0;
        for (int start = 0; start < zip.Length || chunks == 0; start += ChunkBytes)
        {
            var chunk = zip[start..Math.Min(zip.Length, start + ChunkBytes)].ToArray();
            string key = Key(function, sha256Hex, chunks);
            ulong revision = store.ReadDocument(Kind, key)?.Revision ?? 0;
            store.WriteDocument(Kind, key, chunk, revision);
            chunks++;
        }
        return chunks;
    }

    /// <summary>The code as stored, or null when a chunk is missing.</summary>
    public byte[]? Load(string function, string sha256Hex, int chunks)
    {
        var zip = new MemoryStream();
        for (int i = 0; i < chunks; i++)
        {
            if (store.ReadDocument(Kind, Key(function, sha256Hex, i)) is not { } chunk)
                return null;
            zip.Write(chunk.Body);
        }
        return zip.ToArray();
    }

    public void Delete(string function, string sha256Hex, int chunks)
    {
        for (int i = 0; i < chunks; i++)
            store.DeleteDocument(Kind, Key(function, sha256Hex, i));
    }

    private static string Key(string function, string sha256Hex, int index) =>
        $"{function}/{sha256Hex}/{index.ToString("D5", CultureInfo.InvariantCulture)}";
}
