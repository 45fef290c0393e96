using Microsoft.Data.Sqlite;
using Runnel.Core.Model;
using Runnel.Storage.Metadata;
using Runnel.Storage.Tests.Contract;
using static Runnel.Storage.Tests.Contract.MetadataStoreContractTests;

namespace Runnel.Storage.Tests;

/// <summary>What is particular to metadata.db: schema versions and migrations, damaged rows, cascades (the rest: Contract/MetadataStoreContractTests.cs).</summary>
public class MetadataStoreTests
{
    [Fact(Timeout = 30000)]
    public async Task Deleting_a_stream_leaves_none_of_its_rows_behind()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using (var store = new MetadataStore(root.Path))
        {
            store.Save(Sample("gone", 1));
            store.Delete(1);
        }
        using var connection = new SqliteConnection($"Data Source={Path.Combine(root.Path, "metadata.db")};Pooling=False");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT (SELECT COUNT(*) FROM shards WHERE stream_id = 1) + (SELECT COUNT(*) FROM tags WHERE stream_id = 1);";
        Assert.Equal(0L, (long)count.ExecuteScalar()!);
    }

    [Fact(Timeout = 30000)]
    public async Task A_database_from_a_newer_schema_version_is_refused()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using (var store = new MetadataStore(root.Path))
            store.Save(Sample("s", 1));
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(root.Path, "metadata.db")};Pooling=False"))
        {
            connection.Open();
            using var bump = connection.CreateCommand();
            bump.CommandText = "PRAGMA user_version = 99;";
            bump.ExecuteNonQuery();
        }
        var refused = Assert.Throws<InvalidDataException>(() => new MetadataStore(root.Path));
        Assert.Contains("schema version 99", refused.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task Shards_of_a_version_3_database_keep_the_former_sequence_numbers_and_get_a_shard_time_above_their_parents()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        // Shards 0 and 1 merged into 2 within their creation second, then 2 split into 3 and 4 in that second too.
        var ranges = HashKeyRange.SplitEvenly(2);
        var old = new StreamInfo("old", 1, StreamStatus.Active, StreamMode.Provisioned, 24, Created, null,
        [
            new(0, ranges[0], 0, null, null, 3UL, Created, Created),
            new(1, ranges[1], 0, null, null, 0UL, Created, Created),
            new(2, HashKeyRange.Whole, 1, 0, 1, 5UL, Created.AddMilliseconds(1), Created),
            new(3, ranges[0], 2, 2, null, null, Created.AddMilliseconds(2), null),
            new(4, ranges[1], 2, 2, null, null, Created.AddMilliseconds(2), null),
        ], new Dictionary<string, string>(StringComparer.Ordinal), [], 2);
        using (var store = new MetadataStore(root.Path))
            store.Save(old);
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(root.Path, "metadata.db")};Pooling=False"))
        {
            connection.Open();
            using var downgrade = connection.CreateCommand();
            downgrade.CommandText = "ALTER TABLE streams DROP COLUMN encryption; ALTER TABLE shards DROP COLUMN seq_seconds; ALTER TABLE streams DROP COLUMN policy; ALTER TABLE streams DROP COLUMN distribution; ALTER TABLE streams DROP COLUMN warm_mibps; ALTER TABLE streams DROP COLUMN pending_reshard; ALTER TABLE consumers DROP COLUMN policy; DROP TABLE documents; PRAGMA user_version = 3;";
            downgrade.ExecuteNonQuery();
        }
        long second = Created.ToUnixTimeSeconds();
        StreamInfo migrated;
        using (var store = new MetadataStore(root.Path))
        {
            migrated = Assert.Single(store.LoadStreams());
            Assert.All(migrated.Shards, s => Assert.True(s.AcceptsLegacySequenceNumbers));
            Assert.Equal([second, second, second + 1, second + 2, second + 2], migrated.Shards.Select(s => s.SequenceSeconds));
            // A shard made after the upgrade stores its own time and takes only AWS's numbers.
            var child = Resharding.Split(migrated, migrated.Shards[3], ranges[0].Start + 10, Created.AddMilliseconds(3)).Create[0];
            Assert.Equal(second + 3, child.SequenceSeconds);
            store.Save(migrated with { Shards = [.. migrated.Shards, child] });
        }
        using (var store = new MetadataStore(root.Path))
        {
            var again = Assert.Single(store.LoadStreams());
            Assert.Equal(migrated.Shards, again.Shards.Take(5));
            Assert.False(again.Shards[5].AcceptsLegacySequenceNumbers);
            Assert.Equal(second + 3, again.Shards[5].SequenceSeconds);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task A_version_6_database_is_upgraded_to_keep_documents_and_keeps_its_streams_and_sequences()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using (var store = new MetadataStore(root.Path))
        {
            store.Save(Sample("old", 1));
            store.NextSequence("stream");
        }
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(root.Path, "metadata.db")};Pooling=False"))
        {
            connection.Open();
            using var downgrade = connection.CreateCommand();
            downgrade.CommandText = "ALTER TABLE streams DROP COLUMN encryption; DROP TABLE documents; PRAGMA user_version = 6;";
            downgrade.ExecuteNonQuery();
        }
        using (var store = new MetadataStore(root.Path))
        {
            Assert.Equal("old", Assert.Single(store.LoadStreams()).Name);
            Assert.Empty(store.ReadDocuments("delivery-stream"));
            store.WriteDocument("delivery-stream", "to-s3", [1], 0);
            Assert.Equal(2, store.NextSequence("stream"));
        }
        using (var store = new MetadataStore(root.Path))
            Assert.Equal([1], store.ReadDocument("delivery-stream", "to-s3")!.Body);
    }

    [Fact(Timeout = 30000)]
    public async Task A_version_1_database_is_migrated_and_keeps_its_streams()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using (var store = new MetadataStore(root.Path))
            store.Save(Sample("old", 1));
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(root.Path, "metadata.db")};Pooling=False"))
        {
            connection.Open();
            using var downgrade = connection.CreateCommand();
            downgrade.CommandText = "ALTER TABLE streams DROP COLUMN encryption; DROP TABLE consumer_tags; DROP TABLE consumers; ALTER TABLE streams DROP COLUMN max_record_kib; ALTER TABLE shards DROP COLUMN seq_seconds; ALTER TABLE streams DROP COLUMN policy; ALTER TABLE streams DROP COLUMN distribution; ALTER TABLE streams DROP COLUMN warm_mibps; ALTER TABLE streams DROP COLUMN pending_reshard; DROP TABLE documents; PRAGMA user_version = 1;";
            downgrade.ExecuteNonQuery();
        }
        using (var store = new MetadataStore(root.Path))
        {
            var stream = Assert.Single(store.LoadStreams());
            Assert.Equal("old", stream.Name);
            Assert.Equal(1024, stream.MaxRecordSizeKiB);
            store.Save(stream with { MaxRecordSizeKiB = 4096 });
        }
        using (var store = new MetadataStore(root.Path))
            Assert.Equal(4096, Assert.Single(store.LoadStreams()).MaxRecordSizeKiB);
    }

    [Fact(Timeout = 30000)]
    public async Task A_damaged_consumer_row_is_skipped_and_reported_and_the_others_load()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using (var store = new MetadataStore(root.Path))
        {
            store.Save(Sample("orders", 1));
            store.AddConsumer(Consumer(1, "good"));
            store.AddConsumer(Consumer(1, "bad"));
        }
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(root.Path, "metadata.db")};Pooling=False"))
        {
            connection.Open();
            using var damage = connection.CreateCommand();
            damage.CommandText = "UPDATE consumers SET status = 'Sleeping' WHERE name = 'bad';";
            damage.ExecuteNonQuery();
        }
        using (var store = new MetadataStore(root.Path))
        {
            var loaded = store.Load();
            Assert.Equal("good", Assert.Single(loaded.Consumers).Name);
            Assert.Single(loaded.DamagedConsumerIds);
            Assert.Contains(loaded.UnattributedProblems, p => p.Contains("consumer bad", StringComparison.Ordinal) && p.Contains("Sleeping", StringComparison.Ordinal));
            Assert.Equal("orders", Assert.Single(loaded.Streams).Name); // the stream itself is not damaged
        }
    }

    /// <summary>The schema exactly as Runnel wrote it at version 2 (before consumers).</summary>
    private const string Version2Schema = """
        CREATE TABLE settings (key TEXT PRIMARY KEY, value BLOB NOT NULL);
        CREATE TABLE streams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, status TEXT NOT NULL, mode TEXT NOT NULL,
            retention_hours INTEGER NOT NULL, created_ms INTEGER NOT NULL, status_until_ms INTEGER, epoch INTEGER NOT NULL,
            enhanced_metrics TEXT NOT NULL, max_record_kib INTEGER NOT NULL DEFAULT 1024);
        CREATE TABLE shards (stream_id INTEGER NOT NULL REFERENCES streams(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
            start_hash TEXT NOT NULL, end_hash TEXT NOT NULL, epoch INTEGER NOT NULL, parent INTEGER, adjacent_parent INTEGER,
            end_offset TEXT, created_ms INTEGER NOT NULL, closed_ms INTEGER, PRIMARY KEY (stream_id, idx));
        CREATE TABLE tags (stream_id INTEGER NOT NULL REFERENCES streams(id) ON DELETE CASCADE, key TEXT NOT NULL,
            value TEXT NOT NULL, PRIMARY KEY (stream_id, key));
        CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT INTO streams VALUES (7, 'legacy', 'Active', 'Provisioned', 48, 1700000000123, NULL, 0, 'IncomingBytes', 2048);
        INSERT INTO shards VALUES (7, 0, '0', '340282366920938463463374607431768211455', 0, NULL, NULL, NULL, 1700000000123, NULL);
        INSERT INTO tags VALUES (7, 'env', 'prod');
        INSERT INTO sequences VALUES ('stream', 7);
        PRAGMA user_version = 2;
        """;

    [Fact(Timeout = 30000)]
    public async Task A_version_2_database_is_upgraded_to_take_consumers_and_keeps_its_streams()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        string path = Path.Combine(root.Path, "metadata.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var create = connection.CreateCommand();
            create.CommandText = Version2Schema;
            create.ExecuteNonQuery();
        }
        using (var store = new MetadataStore(root.Path))
        {
            var stream = Assert.Single(store.LoadStreams());
            Assert.Equal(("legacy", 7L, 48, 2048, "prod"), (stream.Name, stream.Id, stream.RetentionHours, stream.MaxRecordSizeKiB, stream.Tags["env"]));
            Assert.Empty(store.Load().Consumers);
            store.AddConsumer(Consumer(7, "reader", tags: new(StringComparer.Ordinal) { ["a"] = "b" }));
            Assert.Equal(8, store.NextSequence("stream")); // the sequences survive the upgrade
        }
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var version = connection.CreateCommand();
            version.CommandText = "PRAGMA user_version;";
            Assert.Equal((long)MetadataStore.SchemaVersion, (long)version.ExecuteScalar()!);
        }
        using (var store = new MetadataStore(root.Path))
        {
            var reader = Assert.Single(store.Load().Consumers);
            Assert.Equal(("reader", 7L, "b"), (reader.Name, reader.StreamId, reader.Tags["a"]));
        }
    }
}
