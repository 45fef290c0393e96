using Microsoft.Data.Sqlite;

namespace Runnel.Storage.Metadata;

/// <summary>
/// Writes salvaged rows into a new database with the current schema, for <see cref="MetadataRepair"/>:
/// row by row, dropping what the schema or the stream parser rejects, so that the result opens and loads
/// like any healthy database.
/// </summary>
internal static class MetadataRebuild
{
    public sealed record Result(RepairReport Report, IReadOnlySet<long> KeptIds);

    public static Result Build(string databasePath, IReadOnlyDictionary<string, SalvagedTable> salvaged, IEnumerable<long> idsOnDisk)
    {
        using (MetadataStore.OpenFile(databasePath))
        {
            // creates the current schema
        }
        var kept = new HashSet<long>();
        var seenIds = new HashSet<long>(idsOnDisk);
        var lost = new List<LostStream>();
        int shardsDropped = 0, tagsDropped = 0, consumersDropped = 0, consumerTagsDropped = 0, documentsDropped = 0;
        using (var target = MetadataStore.Connect(databasePath))
        {
            target.Open();
            using var tx = target.BeginTransaction();
            foreach (var row in salvaged["streams"].Rows)
            {
                string? name = row.GetValueOrDefault("name") as string;
                if (row.GetValueOrDefault("id") is not long id)
                {
                    lost.Add(new LostStream(null, name, "its id is unreadable"));
                    continue;
                }
                seenIds.Add(id);
                if (TryInsert(target, tx, "streams", row) is { } error)
                    lost.Add(new LostStream(id, name, error));
                else
                    kept.Add(id);
            }
            foreach (string table in new[] { "shards", "tags" })
            {
                foreach (var row in salvaged[table].Rows)
                {
                    if (row.GetValueOrDefault("stream_id") is long streamId)
                    {
                        seenIds.Add(streamId);
                        if (kept.Contains(streamId) && TryInsert(target, tx, table, row) is null)
                            continue;
                    }
                    if (table == "shards")
                        shardsDropped++;
                    else
                        tagsDropped++;
                }
            }
            // Consumers only of kept streams, their tags only of kept consumers. Consumer ids are not handed
            // out by a sequence (SQLite picks the next rowid), so nothing needs raising for them.
            var keptConsumers = new HashSet<long>();
            foreach (var row in salvaged["consumers"].Rows)
            {
                if (row.GetValueOrDefault("id") is long consumerId && row.GetValueOrDefault("stream_id") is long streamId
                    && kept.Contains(streamId) && TryInsert(target, tx, "consumers", row) is null)
                    keptConsumers.Add(consumerId);
                else
                    consumersDropped++;
            }
            foreach (var row in salvaged["consumer_tags"].Rows)
                if (row.GetValueOrDefault("consumer_id") is not long consumerId || !keptConsumers.Contains(consumerId) || TryInsert(target, tx, "consumer_tags", row) is not null)
                    consumerTagsDropped++;
            foreach (var row in salvaged["settings"].Rows)
                if (row.GetValueOrDefault("key") is string && row.GetValueOrDefault("value") is byte[])
                    TryInsert(target, tx, "settings", row);
            foreach (var row in salvaged["sequences"].Rows)
                if (row.GetValueOrDefault("name") is string && row.GetValueOrDefault("value") is long)
                    TryInsert(target, tx, "sequences", row);
            // Other services' documents, whole or not at all: a row whose body or revision is unreadable is dropped.
            foreach (var row in salvaged["documents"].Rows)
                if (row.GetValueOrDefault("kind") is not string || row.GetValueOrDefault("key") is not string || row.GetValueOrDefault("revision") is not long
                    || row.GetValueOrDefault("body") is not byte[] || TryInsert(target, tx, "documents", row) is not null)
                    documentsDropped++;
            tx.Commit();
        }

        // The same parser as the server's start-up: a stream it would skip is dropped here, with its rows.
        using var store = MetadataStore.OpenFile(databasePath);
        foreach (var damaged in store.Load().Damaged)
        {
            store.Delete(damaged.Id);
            kept.Remove(damaged.Id);
            lost.Add(new LostStream(damaged.Id, damaged.Name, damaged.Problem));
        }
        // Logs that other services claim (a Firehose DirectPut log) are kept like a stream's.
        foreach (long owned in LogOwners.Ids(store))
        {
            kept.Add(owned);
            seenIds.Add(owned);
        }
        // Consumer rows the parser rejects are dropped like the server would skip them; their tags go with them.
        var afterStreams = store.Load();
        foreach (long consumerId in afterStreams.DamagedConsumerIds)
            store.DeleteConsumer(consumerId);
        consumersDropped += afterStreams.DamagedConsumerIds.Count;
        var (sequence, raised) = RaiseStreamSequence(databasePath, seenIds);
        using var check = MetadataStore.Connect(databasePath);
        check.Open();
        var loaded = store.Load();
        return new Result(new RepairReport
        {
            Damaged = true,
            DryRun = false,
            StreamsKept = loaded.Streams.Select(s => s.Name).ToList(),
            StreamsLost = lost,
            ShardsKept = loaded.Streams.Sum(s => s.Shards.Count),
            ShardsDropped = shardsDropped + CountDroppedWith(salvaged["shards"], lost),
            TagsKept = loaded.Streams.Sum(s => s.Tags.Count),
            TagsDropped = tagsDropped + CountDroppedWith(salvaged["tags"], lost),
            ConsumersKept = loaded.Consumers.Count,
            ConsumersDropped = consumersDropped,
            ConsumerTagsDropped = consumerTagsDropped,
            DocumentsKept = Count(check, "documents"),
            DocumentsDropped = documentsDropped,
            SettingsKept = Strings(check, "SELECT key FROM settings ORDER BY key;"),
            SequencesKept = Strings(check, "SELECT name FROM sequences ORDER BY name;").Where(n => n != MetadataRepair.StreamSequence || !raised).ToList(),
            StreamSequence = sequence,
            StreamSequenceRaised = raised,
        }, kept);
    }

    /// <summary>Rows of streams dropped after insertion (by the parser): counted as dropped too.</summary>
    private static int CountDroppedWith(SalvagedTable table, List<LostStream> lost)
    {
        var parsedOut = lost.Where(l => l.Id is not null).Select(l => l.Id!.Value).ToHashSet();
        return table.Rows.Count(r => r.GetValueOrDefault("stream_id") is long id && parsedOut.Contains(id));
    }

    /// <summary>
    /// Stream ids must never be handed out twice: a new stream with an old id would adopt the old logs. The
    /// sequence is set to at least the largest id in any salvaged row and any log directory.
    /// </summary>
    private static (long Value, bool Raised) RaiseStreamSequence(string databasePath, IReadOnlySet<long> seenIds)
    {
        using var connection = MetadataStore.Connect(databasePath);
        connection.Open();
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT value FROM sequences WHERE name = $n;";
        read.Parameters.AddWithValue("$n", MetadataRepair.StreamSequence);
        long? current = read.ExecuteScalar() as long?;
        long highest = seenIds.Count == 0 ? 0 : seenIds.Max();
        if (current is { } value && value >= highest)
            return (value, false);
        using var write = connection.CreateCommand();
        write.CommandText = "INSERT INTO sequences (name, value) VALUES ($n, $v) ON CONFLICT(name) DO UPDATE SET value = $v;";
        write.Parameters.AddWithValue("$n", MetadataRepair.StreamSequence);
        write.Parameters.AddWithValue("$v", highest);
        write.ExecuteNonQuery();
        return (highest, true);
    }

    /// <summary>Inserts the columns of <paramref name="row"/> that the new table has; null when it went in, else SQLite's reason.</summary>
    private static string? TryInsert(SqliteConnection connection, SqliteTransaction tx, string table, IReadOnlyDictionary<string, object> row)
    {
        var columns = Columns(connection, tx, table).Where(row.ContainsKey).ToList();
        using var insert = connection.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = $"INSERT INTO {table} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i))});";
        for (int i = 0; i < columns.Count; i++)
            insert.Parameters.AddWithValue("$p" + i, row[columns[i]]);
        try
        {
            insert.ExecuteNonQuery();
            return null;
        }
        catch (SqliteException e)
        {
            return e.Message;
        }
    }

    private static List<string> Columns(SqliteConnection connection, SqliteTransaction tx, string table)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = $"SELECT name FROM pragma_table_info('{table}');";
        var names = new List<string>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
            names.Add(r.GetString(0));
        return names;
    }

    private static int Count(SqliteConnection connection, string table)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM {table};";
        return (int)(long)cmd.ExecuteScalar()!;
    }

    private static List<string> Strings(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        var values = new List<string>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
            values.Add(r.GetString(0));
        return values;
    }
}
