using Microsoft.Data.Sqlite;

namespace Runnel.Storage.Metadata;

/// <summary>Other services' documents (<see cref="MetadataDocument"/>) in the <c>documents</c> table.</summary>
public sealed partial class MetadataStore
{
    /// <summary>The table (schema 7). Revisions come from the <see cref="DocumentRevisions"/> sequence, so they only grow.</summary>
    internal const string CreateDocuments = """
        CREATE TABLE documents (
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            revision INTEGER NOT NULL,
            body BLOB NOT NULL,
            PRIMARY KEY (kind, key));
        """;

    /// <summary>The sequence (in <c>sequences</c>) that hands out document revisions.</summary>
    internal const string DocumentRevisions = "document-revision";

    public IReadOnlyList<MetadataDocument> ReadDocuments(string kind)
    {
        MetadataDocument.Check(kind);
        lock (_lock)
        {
            using var select = Command("SELECT key, revision, body FROM documents WHERE kind = $kind;", ("$kind", kind));
            using var reader = select.ExecuteReader();
            var documents = new List<MetadataDocument>();
            while (reader.Read())
                documents.Add(Row(kind, reader));
            // Ordinal order of the strings (SQLite's BINARY collation orders UTF-8 bytes, which differs past U+FFFF).
            documents.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            return documents;
        }
    }

    public MetadataDocument? ReadDocument(string kind, string key)
    {
        MetadataDocument.Check(kind, key);
        lock (_lock)
            return Find(kind, key, null);
    }

    public MetadataDocument WriteDocument(string kind, string key, byte[] body, ulong expectedRevision)
    {
        MetadataDocument.Check(kind, key);
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction();
            var stored = Find(kind, key, tx);
            if ((stored?.Revision ?? 0) != expectedRevision)
                throw new DocumentConflictException(kind, key, stored);
            long revision;
            using (var next = Command("""
                INSERT INTO sequences (name, value) VALUES ($n, 1)
                ON CONFLICT(name) DO UPDATE SET value = value + 1
                RETURNING value;
                """, ("$n", DocumentRevisions)))
            {
                next.Transaction = tx;
                revision = (long)next.ExecuteScalar()!;
            }
            Execute("""
                INSERT INTO documents (kind, key, revision, body) VALUES ($kind, $key, $rev, $body)
                ON CONFLICT(kind, key) DO UPDATE SET revision = $rev, body = $body;
                """, tx, ("$kind", kind), ("$key", key), ("$rev", revision), ("$body", body));
            tx.Commit();
            return new MetadataDocument(kind, key, body, (ulong)revision);
        }
    }

    public void DeleteDocument(string kind, string key)
    {
        MetadataDocument.Check(kind, key);
        lock (_lock)
            Execute("DELETE FROM documents WHERE kind = $kind AND key = $key;", null, ("$kind", kind), ("$key", key));
    }

    public void DeleteDocument(string kind, string key, ulong expectedRevision)
    {
        MetadataDocument.Check(kind, key);
        lock (_lock)
        {
            var stored = Find(kind, key, null);
            if ((stored?.Revision ?? 0) != expectedRevision)
                throw new DocumentConflictException(kind, key, stored);
            if (stored is not null)
                Execute("DELETE FROM documents WHERE kind = $kind AND key = $key;", null, ("$kind", kind), ("$key", key));
        }
    }

    private MetadataDocument? Find(string kind, string key, SqliteTransaction? tx)
    {
        using var select = Command("SELECT key, revision, body FROM documents WHERE kind = $kind AND key = $key;", ("$kind", kind), ("$key", key));
        select.Transaction = tx;
        using var reader = select.ExecuteReader();
        return reader.Read() ? Row(kind, reader) : null;
    }

    private MetadataDocument Row(string kind, SqliteDataReader reader) =>
        reader.IsDBNull(2) || reader.GetFieldType(2) != typeof(byte[]) || reader.GetFieldType(1) != typeof(long)
            ? throw new MetadataDamagedException(DatabasePath, [$"documents row ({kind}, {reader.GetString(0)}) is not a revision and a blob"])
            : new MetadataDocument(kind, reader.GetString(0), (byte[])reader.GetValue(2), (ulong)reader.GetInt64(1));
}
