using Microsoft.Data.Sqlite;
using Runnel.Core.Model;
using Runnel.Storage.Metadata;

namespace Runnel.Storage.Tests;

/// <summary>Streams, shards, tags, secrets and sequences in metadata.db: round trips and reopening.</summary>
public class MetadataStoreTests
{
    private static readonly DateTimeOffset Created = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);

    private static StreamInfo Sample(string name, long id)
    {
        var ranges = HashKeyRange.SplitEvenly(3);
        var shards = new List<ShardInfo>
        {
            new(0, ranges[0], 5, null, null, null, Created, null),
            new(1, ranges[1], 5, null, null, ulong.MaxValue, Created, Created.AddMinutes(3)),
            new(2, ranges[2], 6, 0, 1, 42UL, Created.AddSeconds(1), Created.AddHours(2)),
            new(3, HashKeyRange.Whole, long.MaxValue, 2, null, null, Created.AddMilliseconds(7), null),
        };
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["env"] = "test", ["\u00fcnicode"] = "\u2713 value", ["empty"] = "" };
        return new StreamInfo(name, id, StreamStatus.Updating, StreamMode.OnDemand, 168, Created, Created.AddSeconds(30),
            shards, tags, ["IncomingBytes", "OutgoingRecords"], 9)
        {
            Distribution = RecordDistribution.Auto,
            WarmThroughputMiBps = 12,
            ResourcePolicy = """{"Version":"2012-10-17","Statement":[]}""",
        };
    }

    private static void AssertSame(StreamInfo expected, StreamInfo actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.Mode, actual.Mode);
        Assert.Equal(expected.RetentionHours, actual.RetentionHours);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.StatusUntil, actual.StatusUntil);
        Assert.Equal(expected.Epoch, actual.Epoch);
        Assert.Equal(expected.Shards, actual.Shards); // ShardInfo is a record of values
        Assert.Equal(expected.Tags.OrderBy(t => t.Key, StringComparer.Ordinal), actual.Tags.OrderBy(t => t.Key, StringComparer.Ordinal));
        Assert.Equal(expected.EnhancedMetrics, actual.EnhancedMetrics);
        Assert.Equal((expected.Distribution, expected.WarmThroughputMiBps, expected.ResourcePolicy), (actual.Distribution, actual.WarmThroughputMiBps, actual.ResourcePolicy));
    }

    [Fact(Timeout = 30000)]
    public async Task Streams_with_shards_and_tags_round_trip_and_survive_a_reopen()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        var orders = Sample("orders", 1);
        var bare = new StreamInfo("a-bare", 2, StreamStatus.Active, StreamMode.Provisioned, 24, Created, null, [],
            new Dictionary<string, string>(StringComparer.Ordinal), [], 0);
        using (var store = new MetadataStore(root.Path))
        {
            store.Save(orders);
            store.Save(bare);
            var loaded = store.LoadStreams();
            Assert.Equal(["a-bare", "orders"], loaded.Select(s => s.Name)); // by name
            AssertSame(bare, loaded[0]);
            AssertSame(orders, loaded[1]);
        }
        using (var store = new MetadataStore(root.Path))
        {
            var loaded = store.LoadStreams();
            AssertSame(bare, loaded[0]);
            AssertSame(orders, loaded[1]);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Saving_again_replaces_the_shards_and_tags_of_a_stream()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using var store = new MetadataStore(root.Path);
        var first = Sample("s", 10);
        store.Save(first);
        var second = first with
        {
            Status = StreamStatus.Active,
            StatusUntil = null,
            RetentionHours = 48,
            Shards = first.Shards.Take(2).ToList(),
            Tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["only"] = "this" },
            EnhancedMetrics = [],
            Epoch = 10,
        };
        store.Save(second);
        AssertSame(second, Assert.Single(store.LoadStreams()));
    }

    [Fact(Timeout = 30000)]
    public async Task Delete_removes_a_stream_with_its_shards_and_tags_and_frees_its_name()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using (var store = new MetadataStore(root.Path))
        {
            store.Save(Sample("gone", 1));
            store.Save(Sample("kept", 2));
            store.Delete(1);
            Assert.Equal(["kept"], store.LoadStreams().Select(s => s.Name));
            store.Save(Sample("gone", 3)); // the same name, a new incarnation
        }
        using (var store = new MetadataStore(root.Path))
        {
            var loaded = store.LoadStreams();
            Assert.Equal([3L, 2L], loaded.Select(s => s.Id));
            AssertSame(Sample("gone", 3), loaded[0]);
        }
        // Cascades: nothing of stream 1 is left behind in the child tables.
        using var connection = new SqliteConnection($"Data Source={Path.Combine(root.Path, "metadata.db")};Pooling=False");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT (SELECT COUNT(*) FROM shards WHERE stream_id = 1) + (SELECT COUNT(*) FROM tags WHERE stream_id = 1);";
        Assert.Equal(0L, (long)count.ExecuteScalar()!);
    }

    [Fact(Timeout = 30000)]
    public async Task Sequences_never_go_back_across_reopens_or_threads()
    {
        using var root = new TempDirectory();
        using (var store = new MetadataStore(root.Path))
        {
            Assert.Equal(1, store.NextSequence("stream-id"));
            Assert.Equal(2, store.NextSequence("stream-id"));
            Assert.Equal(1, store.NextSequence("other"));
        }
        using (var store = new MetadataStore(root.Path))
        {
            Assert.Equal(3, store.NextSequence("stream-id"));
            var values = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => store.NextSequence("stream-id"))));
            Assert.Equal(Enumerable.Range(4, 200).Select(v => (long)v), values.Order());
        }
        using (var store = new MetadataStore(root.Path))
            Assert.Equal(204, store.NextSequence("stream-id"));
    }

    [Fact(Timeout = 30000)]
    public async Task Secrets_are_created_once_and_survive_a_reopen()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        byte[] iterator, other;
        using (var store = new MetadataStore(root.Path))
        {
            iterator = store.GetOrCreateSecret("iterator-key", 32);
            other = store.GetOrCreateSecret("other-key", 16);
            Assert.Equal(32, iterator.Length);
            Assert.Equal(16, other.Length);
            Assert.NotEqual(iterator.Take(16), other);
            Assert.Equal(iterator, store.GetOrCreateSecret("iterator-key", 32));
        }
        using (var store = new MetadataStore(root.Path))
        {
            Assert.Equal(iterator, store.GetOrCreateSecret("iterator-key", 32));
            Assert.Equal(other, store.GetOrCreateSecret("other-key", 16));
        }
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
            downgrade.CommandText = "ALTER TABLE shards DROP COLUMN seq_seconds; ALTER TABLE streams DROP COLUMN policy; ALTER TABLE streams DROP COLUMN distribution; ALTER TABLE streams DROP COLUMN warm_mibps; ALTER TABLE streams DROP COLUMN pending_reshard; ALTER TABLE consumers DROP COLUMN policy; PRAGMA user_version = 3;";
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
            downgrade.CommandText = "DROP TABLE consumer_tags; DROP TABLE consumers; ALTER TABLE streams DROP COLUMN max_record_kib; ALTER TABLE shards DROP COLUMN seq_seconds; ALTER TABLE streams DROP COLUMN policy; ALTER TABLE streams DROP COLUMN distribution; ALTER TABLE streams DROP COLUMN warm_mibps; ALTER TABLE streams DROP COLUMN pending_reshard; PRAGMA user_version = 1;";
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

    private static ConsumerInfo Consumer(long streamId, string name, ConsumerStatus status = ConsumerStatus.Active, DateTimeOffset? until = null, Dictionary<string, string>? tags = null) =>
        new(0, streamId, name, status, Created.AddSeconds(5), until, tags ?? new Dictionary<string, string>(StringComparer.Ordinal));

    [Fact(Timeout = 30000)]
    public async Task Consumers_with_tags_round_trip_change_and_go_with_their_stream()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        long kept, changed;
        using (var store = new MetadataStore(root.Path))
        {
            store.Save(Sample("orders", 1));
            store.Save(Sample("audit", 2));
            kept = store.AddConsumer(Consumer(1, "billing", tags: new(StringComparer.Ordinal) { ["team"] = "b", ["empty"] = "" }));
            changed = store.AddConsumer(Consumer(1, "search", ConsumerStatus.Creating, Created.AddSeconds(35)));
            store.AddConsumer(Consumer(2, "gone"));
            Assert.NotEqual(kept, changed);
            Assert.Throws<SqliteException>(() => store.AddConsumer(Consumer(1, "billing"))); // one name per stream
            store.SaveConsumer(Consumer(1, "search", ConsumerStatus.Deleting, Created.AddSeconds(60), new(StringComparer.Ordinal) { ["k"] = "v" }) with { Id = changed, ResourcePolicy = "{}" });
            store.Delete(2); // the stream's consumers go with it
        }
        using (var store = new MetadataStore(root.Path))
        {
            var loaded = store.Load();
            Assert.Equal(["billing", "search"], loaded.Consumers.Select(c => c.Name));
            var billing = loaded.Consumers[0];
            Assert.Equal((kept, 1L, ConsumerStatus.Active, Created.AddSeconds(5), (DateTimeOffset?)null), (billing.Id, billing.StreamId, billing.Status, billing.CreatedAt, billing.StatusUntil));
            Assert.Equal(new Dictionary<string, string> { ["empty"] = "", ["team"] = "b" }, billing.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).ToDictionary());
            var search = loaded.Consumers[1];
            Assert.Equal((ConsumerStatus.Deleting, (DateTimeOffset?)Created.AddSeconds(60)), (search.Status, search.StatusUntil));
            Assert.Equal("v", search.Tags["k"]);
            Assert.Equal(("{}", (string?)null), (search.ResourcePolicy, billing.ResourcePolicy));
            store.DeleteConsumer(changed);
            Assert.Equal(["billing"], store.Load().Consumers.Select(c => c.Name));
        }
    }

    [Fact(Timeout = 30000)]
    public async Task A_pending_reshard_round_trips_with_every_field()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        var ranges = HashKeyRange.SplitEvenly(3);
        var stream = Sample("moving", 1) with { Shards = [.. ranges.Select((r, i) => new ShardInfo(i, r, 0, null, null, null, Created, null))] };
        var plan = Resharding.UniformScale(stream, 5, Created.AddHours(1));
        Assert.Contains(plan.Create, s => s.EndOffset is not null); // an intermediate shard, created closed
        using (var store = new MetadataStore(root.Path))
            store.Save(stream with { PendingReshard = plan });
        using (var store = new MetadataStore(root.Path))
        {
            var loaded = Assert.Single(store.LoadStreams()).PendingReshard!;
            Assert.Equal(plan.Close, loaded.Close);
            Assert.Equal(plan.Create, loaded.Create); // ShardInfo is a record of values
            store.Save(Assert.Single(store.LoadStreams()) with { PendingReshard = null });
            Assert.Null(Assert.Single(store.LoadStreams()).PendingReshard);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Settings_are_written_replaced_and_read_back()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using (var store = new MetadataStore(root.Path))
        {
            Assert.Null(store.ReadSetting("account"));
            store.WriteSetting("account", [1, 2]);
            store.WriteSetting("account", [3]);
        }
        using (var store = new MetadataStore(root.Path))
            Assert.Equal([3], store.ReadSetting("account")!);
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
            Assert.Equal(6L, (long)version.ExecuteScalar()!);
        }
        using (var store = new MetadataStore(root.Path))
        {
            var reader = Assert.Single(store.Load().Consumers);
            Assert.Equal(("reader", 7L, "b"), (reader.Name, reader.StreamId, reader.Tags["a"]));
        }
    }
}
