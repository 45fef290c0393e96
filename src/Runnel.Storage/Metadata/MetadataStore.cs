using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Runnel.Core.Model;

namespace Runnel.Storage.Metadata;

/// <summary>
/// Streams, shards, tags, registered consumers, server secrets and other services' documents, kept in SQLite (WAL journal, synchronous=FULL) in
/// <c>{root}/metadata.db</c>, so a crash at any point leaves either the old or the new state, never a
/// torn one. Callers keep the authoritative in-memory copy; this class persists it.
/// <para>Opening checks the file (<c>PRAGMA integrity_check</c>) and turns every sign of a damaged file
/// into <see cref="MetadataDamagedException"/>, and any other SQLite failure at open into an
/// <see cref="IOException"/>, so the host can say what is wrong instead of crashing.</para>
/// Thread-safe: one connection, every call serialized by a lock.
/// </summary>
public sealed partial class MetadataStore : IMetadataStore
{
    public const string FileName = "metadata.db";
    internal const int SchemaVersion = 8;
    // integrity_check stops after this many problems; the first few are what an operator needs.
    private const int CheckProblemLimit = 20;
    private const int GenericError = 1; // SQLITE_ERROR
    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();

    public MetadataStore(string root)
        : this(RefuseInterruptedRepair(root), createDirectory: true)
    {
    }

    private static string RefuseInterruptedRepair(string root)
    {
        if (MetadataRepair.InterruptedSwap(root) is { } scratch)
            throw new IOException($"A 'runnel repair' was interrupted while it put the repaired metadata database in place ({Path.GetFullPath(scratch)}). " +
                $"Run 'runnel repair --data-dir {Path.GetFullPath(root)}' again to finish it.");
        return Path.Combine(root, FileName);
    }

    private MetadataStore(string databasePath, bool createDirectory)
    {
        if (createDirectory)
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(databasePath))!);
        DatabasePath = databasePath;
        _connection = Connect(databasePath);
        try
        {
            _connection.Open();
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
            var problems = Check(_connection);
            if (problems.Count > 0)
                throw new MetadataDamagedException(databasePath, problems);
            Migrate();
        }
        catch (SqliteException e) when (e.SqliteErrorCode == GenericError)
        {
            // Our own fixed statements fail with a plain error only because of what the file holds: an
            // "unsupported file format" header, tables that exist although user_version says they do not.
            _connection.Dispose();
            throw new MetadataDamagedException(databasePath, [e.Message], e);
        }
        catch (SqliteException e)
        {
            _connection.Dispose();
            throw Translate(e, databasePath, "open");
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens (or creates) a database at an explicit path; <c>runnel repair</c> builds its replacement this way.</summary>
    internal static MetadataStore OpenFile(string databasePath) => new(databasePath, createDirectory: false);

    /// <summary>The database file.</summary>
    public string DatabasePath { get; }

    public string Location => DatabasePath;

    internal static SqliteConnection Connect(string databasePath) =>
        new(new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString());

    /// <summary>
    /// SQLite's full integrity check: page structure, free list, every index against its table, NOT NULL.
    /// Empty when the file is sound. It reads every page once; for a few hundred streams that is a few
    /// milliseconds (docs/reliability.md), so it runs at every start-up.
    /// </summary>
    internal static List<string> Check(SqliteConnection connection)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = $"PRAGMA integrity_check({CheckProblemLimit});";
        var lines = new List<string>();
        using (var r = cmd.ExecuteReader())
            while (r.Read())
                lines.Add(r.IsDBNull(0) ? "(no text)" : r.GetString(0));
        return lines is ["ok"] ? [] : lines;
    }

    /// <summary>
    /// A SQLite failure as the host should see it: damage as <see cref="MetadataDamagedException"/>,
    /// anything else SQLite refuses (disk full, I/O error, read-only) as <see cref="IOException"/>.
    /// </summary>
    private static Exception Translate(SqliteException e, string databasePath, string operation) =>
        MetadataDamagedException.IsCorruption(e)
            ? new MetadataDamagedException(databasePath, [e.Message], e)
            : new IOException($"Could not {operation} the metadata database {Path.GetFullPath(databasePath)}: {e.Message}", e);

    private void Migrate()
    {
        long version = (long)Scalar("PRAGMA user_version;")!;
        if (version > SchemaVersion)
            throw new InvalidDataException($"metadata.db has schema version {version}; this Runnel knows up to {SchemaVersion}. Upgrade Runnel.");
        if (version == SchemaVersion)
            return;
        // One transaction per upgrade (user_version is part of it): a crash leaves the old version or the new, never a half.
        using var tx = _connection.BeginTransaction();
        if (version == 0)
        {
            Execute("""
                CREATE TABLE settings (key TEXT PRIMARY KEY, value BLOB NOT NULL);
                CREATE TABLE streams (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    status TEXT NOT NULL,
                    mode TEXT NOT NULL,
                    retention_hours INTEGER NOT NULL,
                    created_ms INTEGER NOT NULL,
                    status_until_ms INTEGER,
                    epoch INTEGER NOT NULL,
                    enhanced_metrics TEXT NOT NULL,
                    max_record_kib INTEGER NOT NULL DEFAULT 1024);
                CREATE TABLE shards (
                    stream_id INTEGER NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
                    idx INTEGER NOT NULL,
                    start_hash TEXT NOT NULL,
                    end_hash TEXT NOT NULL,
                    epoch INTEGER NOT NULL,
                    parent INTEGER,
                    adjacent_parent INTEGER,
                    end_offset TEXT,
                    created_ms INTEGER NOT NULL,
                    closed_ms INTEGER,
                    PRIMARY KEY (stream_id, idx));
                CREATE TABLE tags (
                    stream_id INTEGER NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (stream_id, key));
                CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                """, tx);
        }
        if (version == 1)
        {
            // Version 2 adds the per-stream record size limit (UpdateMaxRecordSize).
            Execute("ALTER TABLE streams ADD COLUMN max_record_kib INTEGER NOT NULL DEFAULT 1024;", tx);
        }
        // Version 3 adds registered consumers (enhanced fan-out) and their tags.
        if (version < 3)
            Execute("""
            CREATE TABLE consumers (
                id INTEGER PRIMARY KEY,
                stream_id INTEGER NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                status TEXT NOT NULL,
                created_ms INTEGER NOT NULL,
                status_until_ms INTEGER,
                UNIQUE (stream_id, name));
            CREATE TABLE consumer_tags (
                consumer_id INTEGER NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (consumer_id, key));
            """, tx);
        // Version 4 moves sequence numbers to AWS's layout, whose shard time must put children above their
        // parents: each shard stores it. Shards from before have none (NULL) and keep accepting the former
        // 43-digit numbers; Load derives their time (docs/formats/metadata.md).
        if (version < 4)
            Execute("ALTER TABLE shards ADD COLUMN seq_seconds INTEGER;", tx);
        // Version 5 adds what the 2025-2026 operations keep: resource policies (streams and consumers), the record
        // distribution strategy and the warm throughput of a stream.
        if (version < 5)
            Execute("""
                ALTER TABLE streams ADD COLUMN policy TEXT;
                ALTER TABLE streams ADD COLUMN distribution TEXT NOT NULL DEFAULT 'UserPartitionKey';
                ALTER TABLE streams ADD COLUMN warm_mibps INTEGER;
                ALTER TABLE consumers ADD COLUMN policy TEXT;
                """, tx);
        // Version 6 keeps a reshard asked for while UPDATING, applied at the switch back to ACTIVE.
        if (version < 6)
            Execute("ALTER TABLE streams ADD COLUMN pending_reshard TEXT;", tx);
        // Version 7 keeps other services' documents (Firehose's delivery streams first; docs/adr/0002-firehose.md).
        if (version < 7)
            Execute(CreateDocuments, tx);
        // Version 8 keeps a stream's encryption at rest: its KMS key id and wrapped data keys (EncryptionCodec).
        if (version < 8)
            Execute("ALTER TABLE streams ADD COLUMN encryption TEXT;", tx);
        Execute($"PRAGMA user_version = {SchemaVersion};", tx);
        tx.Commit();
    }

    /// <summary>A random secret that survives restarts (it signs shard iterators), created on first use.</summary>
    public byte[] GetOrCreateSecret(string name, int length)
    {
        lock (_lock)
        {
            using var select = Command("SELECT value FROM settings WHERE key = $k;", ("$k", name));
            object? stored = select.ExecuteScalar();
            if (stored is byte[] existing && existing.Length == length)
                return existing;
            if (stored is not null)
                throw new MetadataDamagedException(DatabasePath, [$"settings row '{name}' is not a {length}-byte blob"]);
            var secret = RandomNumberGenerator.GetBytes(length);
            using var insert = Command("INSERT INTO settings (key, value) VALUES ($k, $v);", ("$k", name), ("$v", secret));
            insert.ExecuteNonQuery();
            return secret;
        }
    }

    /// <summary>A setting stored with <see cref="WriteSetting"/>, or null when there is none.</summary>
    public byte[]? ReadSetting(string name)
    {
        lock (_lock)
        {
            using var select = Command("SELECT value FROM settings WHERE key = $k;", ("$k", name));
            return select.ExecuteScalar() switch
            {
                null => null,
                byte[] value => value,
                _ => throw new MetadataDamagedException(DatabasePath, [$"settings row '{name}' is not a blob"]),
            };
        }
    }

    /// <summary>Stores a setting (a blob under a name), replacing what was there.</summary>
    public void WriteSetting(string name, byte[] value)
    {
        lock (_lock)
            Execute("INSERT INTO settings (key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = $v;", null, ("$k", name), ("$v", value));
    }

    /// <summary>The next value of a named counter that never goes back, even across restarts.</summary>
    public long NextSequence(string name)
    {
        lock (_lock)
        {
            using var upsert = Command("""
                INSERT INTO sequences (name, value) VALUES ($n, 1)
                ON CONFLICT(name) DO UPDATE SET value = value + 1
                RETURNING value;
                """, ("$n", name));
            return (long)upsert.ExecuteScalar()!;
        }
    }

    /// <summary>Writes the stream with its shards and tags in one transaction, replacing what was stored (one node writes this database, so there is nothing to conflict with: no revision).</summary>
    public StreamInfo Save(StreamInfo stream)
    {
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction();
            using (var cmd = Command("""
                INSERT INTO streams (id, name, status, mode, retention_hours, created_ms, status_until_ms, epoch, enhanced_metrics, max_record_kib, policy, distribution, warm_mibps, pending_reshard, encryption)
                VALUES ($id, $name, $status, $mode, $ret, $created, $until, $epoch, $metrics, $maxRecord, $policy, $distribution, $warm, $pending, $encryption)
                ON CONFLICT(id) DO UPDATE SET status = $status, mode = $mode, retention_hours = $ret,
                    status_until_ms = $until, epoch = $epoch, enhanced_metrics = $metrics, max_record_kib = $maxRecord,
                    policy = $policy, distribution = $distribution, warm_mibps = $warm, pending_reshard = $pending, encryption = $encryption;
                """,
                ("$id", stream.Id), ("$name", stream.Name), ("$status", stream.Status.ToString()), ("$mode", stream.Mode.ToString()),
                ("$ret", stream.RetentionHours), ("$created", stream.CreatedAt.ToUnixTimeMilliseconds()),
                ("$until", stream.StatusUntil?.ToUnixTimeMilliseconds()), ("$epoch", stream.Epoch),
                ("$metrics", string.Join(',', stream.EnhancedMetrics)), ("$maxRecord", stream.MaxRecordSizeKiB),
                ("$policy", stream.ResourcePolicy), ("$distribution", stream.Distribution.ToString()), ("$warm", stream.WarmThroughputMiBps),
                ("$pending", stream.PendingReshard is { } plan ? PendingReshardCodec.Encode(plan) : null),
                ("$encryption", stream.Encryption is { } encryption ? EncryptionCodec.Encode(encryption) : null)))
            {
                cmd.Transaction = tx;
                cmd.ExecuteNonQuery();
            }
            Execute("DELETE FROM shards WHERE stream_id = $id; DELETE FROM tags WHERE stream_id = $id;", tx, ("$id", stream.Id));
            foreach (var s in stream.Shards)
            {
                Execute("""
                    INSERT INTO shards (stream_id, idx, start_hash, end_hash, epoch, parent, adjacent_parent, end_offset, created_ms, closed_ms, seq_seconds)
                    VALUES ($id, $idx, $start, $end, $epoch, $parent, $adj, $endOffset, $created, $closed, $seq);
                    """, tx,
                    ("$id", stream.Id), ("$idx", s.Index), ("$start", s.HashKeyRange.StartingHashKey), ("$end", s.HashKeyRange.EndingHashKey),
                    ("$epoch", s.Epoch), ("$parent", s.ParentIndex), ("$adj", s.AdjacentParentIndex),
                    ("$endOffset", s.EndOffset?.ToString(CultureInfo.InvariantCulture)), ("$created", s.CreatedAt.ToUnixTimeMilliseconds()),
                    ("$closed", s.ClosedAt?.ToUnixTimeMilliseconds()), ("$seq", s.AcceptsLegacySequenceNumbers ? null : s.SequenceSeconds));
            }
            foreach (var (key, value) in stream.Tags)
                Execute("INSERT INTO tags (stream_id, key, value) VALUES ($id, $k, $v);", tx, ("$id", stream.Id), ("$k", key), ("$v", value));
            tx.Commit();
        }
        return stream;
    }

    public bool Holds(long streamId)
    {
        lock (_lock)
        {
            using var select = Command("SELECT 1 FROM streams WHERE id = $id;", ("$id", streamId));
            return select.ExecuteScalar() is not null;
        }
    }

    /// <summary>Deletes a stream; the foreign keys delete its shards, tags and consumers (with their tags).</summary>
    public void Delete(long streamId)
    {
        lock (_lock)
            Execute("DELETE FROM streams WHERE id = $id;", null, ("$id", streamId));
    }

    /// <summary>
    /// Stores a new consumer with its tags in one transaction and returns its id (SQLite's next rowid). Its
    /// stream must be stored; a second consumer of the same name on that stream violates the UNIQUE key.
    /// </summary>
    public ConsumerInfo AddConsumer(ConsumerInfo consumer)
    {
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction();
            long id;
            using (var cmd = Command("""
                INSERT INTO consumers (stream_id, name, status, created_ms, status_until_ms, policy)
                VALUES ($stream, $name, $status, $created, $until, $policy) RETURNING id;
                """,
                ("$stream", consumer.StreamId), ("$name", consumer.Name), ("$status", consumer.Status.ToString()),
                ("$created", consumer.CreatedAt.ToUnixTimeMilliseconds()), ("$until", consumer.StatusUntil?.ToUnixTimeMilliseconds()),
                ("$policy", consumer.ResourcePolicy)))
            {
                cmd.Transaction = tx;
                id = (long)cmd.ExecuteScalar()!;
            }
            InsertConsumerTags(id, consumer.Tags, tx);
            tx.Commit();
            return consumer with { Id = id };
        }
    }

    /// <summary>Writes a stored consumer's status, policy and tags in one transaction (name, stream and creation time never
    /// change). One node writes this database: there is nothing to conflict with, and no revision.</summary>
    public ConsumerInfo SaveConsumer(ConsumerInfo consumer)
    {
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction();
            Execute("UPDATE consumers SET status = $status, status_until_ms = $until, policy = $policy WHERE id = $id; DELETE FROM consumer_tags WHERE consumer_id = $id;", tx,
                ("$id", consumer.Id), ("$status", consumer.Status.ToString()), ("$until", consumer.StatusUntil?.ToUnixTimeMilliseconds()),
                ("$policy", consumer.ResourcePolicy));
            InsertConsumerTags(consumer.Id, consumer.Tags, tx);
            tx.Commit();
        }
        return consumer;
    }

    /// <summary>Deletes a consumer; the foreign key deletes its tags. Deleting a stream deletes its consumers the same way.</summary>
    public void DeleteConsumer(long consumerId)
    {
        lock (_lock)
            Execute("DELETE FROM consumers WHERE id = $id;", null, ("$id", consumerId));
    }

    private void InsertConsumerTags(long consumerId, IReadOnlyDictionary<string, string> tags, SqliteTransaction tx)
    {
        foreach (var (key, value) in tags)
            Execute("INSERT INTO consumer_tags (consumer_id, key, value) VALUES ($id, $k, $v);", tx, ("$id", consumerId), ("$k", key), ("$v", value));
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private void Execute(string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, parameters);
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
    }

    private object? Scalar(string sql)
    {
        using var cmd = Command(sql);
        return cmd.ExecuteScalar();
    }

    public void Dispose()
    {
        lock (_lock)
            _connection.Dispose();
    }
}
