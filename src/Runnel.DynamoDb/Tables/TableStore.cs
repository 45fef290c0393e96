using System.Security.Cryptography;
using System.Text;
using Runnel.Storage.Metadata;

namespace Runnel.DynamoDb.Tables;

/// <summary>An item as stored, with the revision of its document (for the compare-and-set of the next write).</summary>
public sealed record StoredItem(string DocumentKey, Item Item, ulong Revision);

/// <summary>
/// DynamoDB's tables and items in the metadata store's documents, so that both backends (SQLite on one node, JetStream
/// key-value buckets on a cluster) hold them and every node of a cluster sees one state: a table is one document of
/// kind <see cref="TableCodec.TableKind"/>, each item one document of its table's item kind. Nothing is cached: every
/// read goes to the store, and every write is a compare-and-set on the revision read, so that two nodes writing one
/// item never lose either write. Thread-safe (the store is).
/// </summary>
public sealed class TableStore(IMetadataStore store)
{
    public IMetadataStore Metadata => store;

    /// <summary>The table document's key: the account and the name ('/' cannot be in a name), hashed when too long for a key.</summary>
    public static string TableKey(string account, string name)
    {
        string key = account + "/" + name;
        return Encoding.UTF8.GetByteCount(key) <= MetadataDocument.MaxKeyBytes ? key : "#" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    public Table? FindTable(string account, string name) =>
        store.ReadDocument(TableCodec.TableKind, TableKey(account, name)) is { } document ? TableCodec.Decode(document.Body, document.Revision) : null;

    /// <summary>The account's tables, ordered by name.</summary>
    public IReadOnlyList<Table> Tables(string account) =>
        store.ReadDocuments(TableCodec.TableKind).Select(d => TableCodec.Decode(d.Body, d.Revision))
            .Where(t => t.Account == account).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();

    /// <summary>A new unique table id (never reused, so a new table of an old name starts with no items).</summary>
    public long NextTableId() => store.NextSequence("dynamodb-table-id");

    /// <summary>Stores a new table; null when one of that name exists (here or made by another node).</summary>
    public Table? TryCreate(Table table)
    {
        try
        {
            var written = store.WriteDocument(TableCodec.TableKind, TableKey(table.Account, table.Name), TableCodec.Encode(table), 0);
            return table with { Revision = written.Revision };
        }
        catch (DocumentConflictException)
        {
            return null;
        }
    }

    /// <summary>Stores a changed table if no one changed it since it was read; <see cref="DocumentConflictException"/> otherwise.</summary>
    public Table Save(Table table)
    {
        var written = store.WriteDocument(TableCodec.TableKind, TableKey(table.Account, table.Name), TableCodec.Encode(table), table.Revision);
        return table with { Revision = written.Revision };
    }

    /// <summary>Deletes a table's document, then its items (a new table of the name has another id, so no item of this
    /// one is ever seen again even if a crash leaves some behind).</summary>
    public void Delete(Table table)
    {
        store.DeleteDocument(TableCodec.TableKind, TableKey(table.Account, table.Name));
        foreach (var document in store.ReadDocuments(table.ItemKind))
            store.DeleteDocument(table.ItemKind, document.Key);
    }

    public StoredItem? ReadItem(Table table, string documentKey) =>
        store.ReadDocument(table.ItemKind, documentKey) is { } document ? new StoredItem(documentKey, TableCodec.DecodeItem(document.Body), document.Revision) : null;

    /// <summary>Every item of a table, in document-key order (the order Scan pages through).</summary>
    public IReadOnlyList<StoredItem> ReadItems(Table table) =>
        store.ReadDocuments(table.ItemKind).Select(d => new StoredItem(d.Key, TableCodec.DecodeItem(d.Body), d.Revision)).ToList();

    /// <summary>Writes an item if its document is still at <paramref name="expectedRevision"/> (0: absent); returns the new
    /// revision, or throws <see cref="DocumentConflictException"/> with the document as it is now.</summary>
    public ulong WriteItem(Table table, string documentKey, Item item, ulong expectedRevision) =>
        store.WriteDocument(table.ItemKind, documentKey, TableCodec.EncodeItem(item), expectedRevision).Revision;

    /// <summary>Deletes an item if its document is still at <paramref name="expectedRevision"/>; <see cref="DocumentConflictException"/> otherwise.</summary>
    public void DeleteItem(Table table, string documentKey, ulong expectedRevision) =>
        store.DeleteDocument(table.ItemKind, documentKey, expectedRevision);

    /// <summary>The stored item a conflict found (null: none), decoded.</summary>
    public static StoredItem? Current(DocumentConflictException conflict) =>
        conflict.Current is { } document ? new StoredItem(document.Key, TableCodec.DecodeItem(document.Body), document.Revision) : null;
}
