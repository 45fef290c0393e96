using System.Globalization;
using System.Text;

namespace Runnel.Storage.Metadata;

/// <summary>
/// Logs in the shard store that belong to something other than a stream's shards (a Firehose DirectPut stream's
/// log): each is claimed by a metadata document of kind <see cref="Kind"/> under its id, written before the log is
/// first made and deleted after the log is. The orphan sweep and <c>runnel repair</c> count these ids as known, so
/// that they never take such a log away (docs/formats/metadata.md). Thread-safe: stateless.
/// </summary>
public static class LogOwners
{
    public const string Kind = "log";

    public static string Key(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>Claims log <paramref name="id"/> for <paramref name="owner"/> (such as <c>delivery-stream/NAME</c>).</summary>
    public static void Claim(IMetadataStore store, long id, string owner) =>
        store.WriteDocument(Kind, Key(id), Encoding.UTF8.GetBytes($"{{\"owner\":{System.Text.Json.JsonSerializer.Serialize(owner, OwnerJson.Default.String)}}}"), 0);

    public static void Release(IMetadataStore store, long id) => store.DeleteDocument(Kind, Key(id));

    /// <summary>The ids of every claimed log, as the store holds them now.</summary>
    public static IReadOnlySet<long> Ids(IMetadataStore store) =>
        store.ReadDocuments(Kind)
            .Select(d => long.TryParse(d.Key, NumberStyles.None, CultureInfo.InvariantCulture, out long id) ? id : -1)
            .Where(id => id >= 0)
            .ToHashSet();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class OwnerJson : System.Text.Json.Serialization.JsonSerializerContext;
