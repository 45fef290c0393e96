using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Runnel.Core.Model;

namespace Runnel.Storage.Metadata;

/// <summary>
/// Streams, shards, tags and server secrets, kept in SQLite (WAL journal, synchronous=FULL) in
/// <c>{root}/metadata.db</c>, so a crash at any point leaves either the old or the new state, never a
/// torn one. Callers keep the authoritative in-memory copy; this class persists it.
/// Thread-safe: one connection, every call serialized by a lock.
/// </summary>
public sealed class MetadataStore : IDisposable
{
    private const int SchemaVersion = 2;
    private readonly SqliteConnection _connection;
    private readonly Lock _lock = new();

    public MetadataStore(string root)
    {
        Directory.CreateDirectory(root);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(root, "metadata.db"),
            Pooling = false,
        }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
        Migrate();
    }

    private void Migrate()
    {
        long version = (long)Scalar("PRAGMA user_version;")!;
        if (version > SchemaVersion)
            throw new InvalidDataException($"metadata.db has schema version {version}; this Runnel knows up to {SchemaVersion}. Upgrade Runnel.");
        if (version == SchemaVersion)
            return;
        if (version == 1)
        {
            // Version 2 adds the per-stream record size limit (UpdateMaxRecordSize).
            Execute("ALTER TABLE streams ADD COLUMN max_record_kib INTEGER NOT NULL DEFAULT 1024; PRAGMA user_version = 2;");
            return;
        }
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
            PRAGMA user_version = 2;
            """);
    }

    /// <summary>A random secret that survives restarts (it signs shard iterators), created on first use.</summary>
    public byte[] GetOrCreateSecret(string name, int length)
    {
        lock (_lock)
        {
            using var select = Command("SELECT value FROM settings WHERE key = $k;", ("$k", name));
            if (select.ExecuteScalar() is byte[] existing)
                return existing;
            var secret = RandomNumberGenerator.GetBytes(length);
            using var insert = Command("INSERT INTO settings (key, value) VALUES ($k, $v);", ("$k", name), ("$v", secret));
            insert.ExecuteNonQuery();
            return secret;
        }
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

    public List<StreamInfo> LoadStreams()
    {
        lock (_lock)
        {
            var shards = new Dictionary<long, List<ShardInfo>>();
            using (var cmd = Command("SELECT stream_id, idx, start_hash, end_hash, epoch, parent, adjacent_parent, end_offset, created_ms, closed_ms FROM shards ORDER BY stream_id, idx;"))
            using (var r = cmd.ExecuteReader())
            {
                while (r.Read())
                {
                    var shard = new ShardInfo(
                        r.GetInt32(1),
                        new HashKeyRange(UInt128.Parse(r.GetString(2), CultureInfo.InvariantCulture), UInt128.Parse(r.GetString(3), CultureInfo.InvariantCulture)),
                        r.GetInt64(4),
                        r.IsDBNull(5) ? null : r.GetInt32(5),
                        r.IsDBNull(6) ? null : r.GetInt32(6),
                        r.IsDBNull(7) ? null : ulong.Parse(r.GetString(7), CultureInfo.InvariantCulture),
                        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(8)),
                        r.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(9)));
                    if (!shards.TryGetValue(r.GetInt64(0), out var list))
                        shards[r.GetInt64(0)] = list = [];
                    list.Add(shard);
                }
            }
            var tags = new Dictionary<long, Dictionary<string, string>>();
            using (var cmd = Command("SELECT stream_id, key, value FROM tags;"))
            using (var r = cmd.ExecuteReader())
            {
                while (r.Read())
                {
                    if (!tags.TryGetValue(r.GetInt64(0), out var map))
                        tags[r.GetInt64(0)] = map = new Dictionary<string, string>(StringComparer.Ordinal);
                    map[r.GetString(1)] = r.GetString(2);
                }
            }
            var streams = new List<StreamInfo>();
            using (var cmd = Command("SELECT id, name, status, mode, retention_hours, created_ms, status_until_ms, epoch, enhanced_metrics, max_record_kib FROM streams ORDER BY name;"))
            using (var r = cmd.ExecuteReader())
            {
                while (r.Read())
                {
                    long id = r.GetInt64(0);
                    streams.Add(new StreamInfo(
                        r.GetString(1),
                        id,
                        Enum.Parse<StreamStatus>(r.GetString(2)),
                        Enum.Parse<StreamMode>(r.GetString(3)),
                        r.GetInt32(4),
                        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(5)),
                        r.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(6)),
                        shards.GetValueOrDefault(id) ?? [],
                        tags.GetValueOrDefault(id) ?? new Dictionary<string, string>(StringComparer.Ordinal),
                        r.GetString(8).Length == 0 ? [] : r.GetString(8).Split(','),
                        r.GetInt64(7))
                    { MaxRecordSizeKiB = r.GetInt32(9) });
                }
            }
            return streams;
        }
    }

    /// <summary>Writes a stream with its shards and tags in one transaction, replacing what was stored.</summary>
    public void Save(StreamInfo stream)
    {
        lock (_lock)
        {
            using var tx = _connection.BeginTransaction();
            using (var cmd = Command("""
                INSERT INTO streams (id, name, status, mode, retention_hours, created_ms, status_until_ms, epoch, enhanced_metrics, max_record_kib)
                VALUES ($id, $name, $status, $mode, $ret, $created, $until, $epoch, $metrics, $maxRecord)
                ON CONFLICT(id) DO UPDATE SET status = $status, mode = $mode, retention_hours = $ret,
                    status_until_ms = $until, epoch = $epoch, enhanced_metrics = $metrics, max_record_kib = $maxRecord;
                """,
                ("$id", stream.Id), ("$name", stream.Name), ("$status", stream.Status.ToString()), ("$mode", stream.Mode.ToString()),
                ("$ret", stream.RetentionHours), ("$created", stream.CreatedAt.ToUnixTimeMilliseconds()),
                ("$until", stream.StatusUntil?.ToUnixTimeMilliseconds()), ("$epoch", stream.Epoch),
                ("$metrics", string.Join(',', stream.EnhancedMetrics)), ("$maxRecord", stream.MaxRecordSizeKiB)))
            {
                cmd.Transaction = tx;
                cmd.ExecuteNonQuery();
            }
            Execute("DELETE FROM shards WHERE stream_id = $id; DELETE FROM tags WHERE stream_id = $id;", tx, ("$id", stream.Id));
            foreach (var s in stream.Shards)
            {
                Execute("""
                    INSERT INTO shards (stream_id, idx, start_hash, end_hash, epoch, parent, adjacent_parent, end_offset, created_ms, closed_ms)
                    VALUES ($id, $idx, $start, $end, $epoch, $parent, $adj, $endOffset, $created, $closed);
                    """, tx,
                    ("$id", stream.Id), ("$idx", s.Index), ("$start", s.HashKeyRange.StartingHashKey), ("$end", s.HashKeyRange.EndingHashKey),
                    ("$epoch", s.Epoch), ("$parent", s.ParentIndex), ("$adj", s.AdjacentParentIndex),
                    ("$endOffset", s.EndOffset?.ToString(CultureInfo.InvariantCulture)), ("$created", s.CreatedAt.ToUnixTimeMilliseconds()),
                    ("$closed", s.ClosedAt?.ToUnixTimeMilliseconds()));
            }
            foreach (var (key, value) in stream.Tags)
                Execute("INSERT INTO tags (stream_id, key, value) VALUES ($id, $k, $v);", tx, ("$id", stream.Id), ("$k", key), ("$v", value));
            tx.Commit();
        }
    }

    public void Delete(long streamId)
    {
        lock (_lock)
            Execute("DELETE FROM streams WHERE id = $id;", null, ("$id", streamId));
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
