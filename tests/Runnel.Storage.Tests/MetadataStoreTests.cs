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
            shards, tags, ["IncomingBytes", "OutgoingRecords"], 9);
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
            downgrade.CommandText = "ALTER TABLE streams DROP COLUMN max_record_kib; PRAGMA user_version = 1;";
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
}
