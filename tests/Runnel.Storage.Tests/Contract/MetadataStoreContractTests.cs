using Runnel.Core.Model;
using Runnel.Storage.Metadata;

namespace Runnel.Storage.Tests.Contract;

/// <summary>Opens one <see cref="IMetadataStore"/> implementation for the metadata contract suite.</summary>
public interface IMetadataStoreFactory
{
    /// <summary>Opens the store kept under <paramref name="directory"/> (the test's own), creating it when absent;
    /// a second open of the same directory finds what the first stored.</summary>
    IMetadataStore Open(string directory);
}

/// <summary>
/// What every <see cref="IMetadataStore"/> must do, written once: streams with their shards and tags, consumers,
/// settings, counters and secrets round-trip, replace, delete and survive a reopen. Each implementation runs it
/// through a one-line subclass at the end of this file.
/// </summary>
public abstract class MetadataStoreContractTests(IMetadataStoreFactory factory)
{
    protected IMetadataStore Open(TempDirectory root) => factory.Open(root.Path);

    internal static readonly DateTimeOffset Created = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);

    internal static StreamInfo Sample(string name, long id)
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
            Encryption = new AtRestEncryption("alias/aws/kinesis",
                [new WrappedDataKey(1, "alias/old", [1, 2, 3, 255]), new WrappedDataKey(2, "alias/aws/kinesis", [9, 8, 7])]),
        };
    }

    internal static void AssertSame(StreamInfo expected, StreamInfo actual)
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
        Assert.Equal(expected.Encryption?.KmsKeyId, actual.Encryption?.KmsKeyId);
        Assert.Equal(expected.Encryption?.Keys.Select(k => (k.Id, k.KmsKeyId, Convert.ToHexString(k.Wrapped))), actual.Encryption?.Keys.Select(k => (k.Id, k.KmsKeyId, Convert.ToHexString(k.Wrapped))));
    }

    [Fact(Timeout = 30000)]
    public async Task Streams_with_shards_and_tags_round_trip_and_survive_a_reopen()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        var orders = Sample("orders", 1);
        var bare = new StreamInfo("a-bare", 2, StreamStatus.Active, StreamMode.Provisioned, 24, Created, null, [],
            new Dictionary<string, string>(StringComparer.Ordinal), [], 0);
        using (var store = Open(root))
        {
            store.Save(orders);
            store.Save(bare);
            var loaded = store.Load().Streams;
            Assert.Equal(["a-bare", "orders"], loaded.Select(s => s.Name)); // by name
            AssertSame(bare, loaded[0]);
            AssertSame(orders, loaded[1]);
        }
        using (var store = Open(root))
        {
            var loaded = store.Load().Streams;
            AssertSame(bare, loaded[0]);
            AssertSame(orders, loaded[1]);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Saving_again_replaces_the_shards_and_tags_of_a_stream()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using var store = Open(root);
        var first = store.Save(Sample("s", 10)); // as stored: a change is decided from the stored copy
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
        AssertSame(second, Assert.Single(store.Load().Streams));
    }

    [Fact(Timeout = 30000)]
    public async Task Delete_removes_a_stream_with_its_shards_and_tags_and_frees_its_name()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using (var store = Open(root))
        {
            store.Save(Sample("gone", 1));
            store.Save(Sample("kept", 2));
            store.Delete(1);
            Assert.Equal(["kept"], store.Load().Streams.Select(s => s.Name));
            store.Save(Sample("gone", 3)); // the same name, a new incarnation
        }
        using (var store = Open(root))
        {
            var loaded = store.Load().Streams;
            Assert.Equal([3L, 2L], loaded.Select(s => s.Id));
            AssertSame(Sample("gone", 3), loaded[0]);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Sequences_never_go_back_across_reopens_or_threads()
    {
        using var root = new TempDirectory();
        using (var store = Open(root))
        {
            Assert.Equal(1, store.NextSequence("stream-id"));
            Assert.Equal(2, store.NextSequence("stream-id"));
            Assert.Equal(1, store.NextSequence("other"));
        }
        using (var store = Open(root))
        {
            Assert.Equal(3, store.NextSequence("stream-id"));
            // Eight threads of their own taking 25 values each: the calls block (a networked store waits for its
            // round trips), so thread-pool tasks would measure the pool's growth rather than the store.
            var values = new System.Collections.Concurrent.ConcurrentBag<long>();
            var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
            {
                for (int i = 0; i < 25; i++)
                    values.Add(store.NextSequence("stream-id"));
            })).ToList();
            threads.ForEach(t => t.Start());
            await Task.Run(() => threads.ForEach(t => t.Join()));
            Assert.Equal(Enumerable.Range(4, 200).Select(v => (long)v), values.Order());
        }
        using (var store = Open(root))
            Assert.Equal(204, store.NextSequence("stream-id"));
    }

    [Fact(Timeout = 30000)]
    public async Task Secrets_are_created_once_and_survive_a_reopen()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        byte[] iterator, other;
        using (var store = Open(root))
        {
            iterator = store.GetOrCreateSecret("iterator-key", 32);
            other = store.GetOrCreateSecret("other-key", 16);
            Assert.Equal(32, iterator.Length);
            Assert.Equal(16, other.Length);
            Assert.NotEqual(iterator.Take(16), other);
            Assert.Equal(iterator, store.GetOrCreateSecret("iterator-key", 32));
        }
        using (var store = Open(root))
        {
            Assert.Equal(iterator, store.GetOrCreateSecret("iterator-key", 32));
            Assert.Equal(other, store.GetOrCreateSecret("other-key", 16));
        }
    }

    internal static ConsumerInfo Consumer(long streamId, string name, ConsumerStatus status = ConsumerStatus.Active, DateTimeOffset? until = null, Dictionary<string, string>? tags = null) =>
        new(0, streamId, name, status, Created.AddSeconds(5), until, tags ?? new Dictionary<string, string>(StringComparer.Ordinal));

    [Fact(Timeout = 30000)]
    public async Task Consumers_with_tags_round_trip_change_and_go_with_their_stream()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        long kept, changed;
        using (var store = Open(root))
        {
            store.Save(Sample("orders", 1));
            store.Save(Sample("audit", 2));
            kept = store.AddConsumer(Consumer(1, "billing", tags: new(StringComparer.Ordinal) { ["team"] = "b", ["empty"] = "" })).Id;
            var added = store.AddConsumer(Consumer(1, "search", ConsumerStatus.Creating, Created.AddSeconds(35)));
            changed = added.Id;
            store.AddConsumer(Consumer(2, "gone"));
            Assert.NotEqual(kept, changed);
            Assert.ThrowsAny<Exception>(() => store.AddConsumer(Consumer(1, "billing"))); // one name per stream
            var saved = store.SaveConsumer(Consumer(1, "search", ConsumerStatus.Deleting, Created.AddSeconds(60), new(StringComparer.Ordinal) { ["k"] = "v" })
                with
            { Id = changed, Revision = added.Revision, ResourcePolicy = "{}" });
            Assert.Equal((changed, ConsumerStatus.Deleting), (saved.Id, saved.Status));
            Assert.True(store.Holds(2));
            store.Delete(2); // the stream's consumers go with it
            Assert.False(store.Holds(2));
            Assert.True(store.Holds(1));
            Assert.False(store.Holds(99));
        }
        using (var store = Open(root))
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
        using (var store = Open(root))
            store.Save(stream with { PendingReshard = plan });
        using (var store = Open(root))
        {
            var loaded = Assert.Single(store.Load().Streams).PendingReshard!;
            Assert.Equal(plan.Close, loaded.Close);
            Assert.Equal(plan.Create, loaded.Create); // ShardInfo is a record of values
            store.Save(Assert.Single(store.Load().Streams) with { PendingReshard = null });
            Assert.Null(Assert.Single(store.Load().Streams).PendingReshard);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Settings_are_written_replaced_and_read_back()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using (var store = Open(root))
        {
            Assert.Null(store.ReadSetting("account"));
            store.WriteSetting("account", [1, 2]);
            store.WriteSetting("account", [3]);
        }
        using (var store = Open(root))
            Assert.Equal([3], store.ReadSetting("account")!);
    }

    [Fact(Timeout = 30000)]
    public async Task Documents_round_trip_by_kind_and_key_and_survive_a_reopen()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        string unicode = "\u00fcber/delivery stream.\u2713"; // any key: spaces, dots, slashes, non-ASCII
        MetadataDocument first, second;
        using (var store = Open(root))
        {
            Assert.Empty(store.ReadDocuments("delivery-stream"));
            Assert.Null(store.ReadDocument("delivery-stream", "orders"));
            second = store.WriteDocument("delivery-stream", unicode, [9, 8], 0);
            first = store.WriteDocument("delivery-stream", "orders", [1, 2, 3], 0);
            store.WriteDocument("channel", "orders", [7], 0); // the same key in another kind is another document
            Assert.NotEqual(0UL, first.Revision);
            Assert.NotEqual(first.Revision, second.Revision);
        }
        using (var store = Open(root))
        {
            var all = store.ReadDocuments("delivery-stream");
            Assert.Equal(["orders", unicode], all.Select(d => d.Key)); // ordinal order
            Assert.Equal([1, 2, 3], all[0].Body);
            Assert.Equal([9, 8], all[1].Body);
            Assert.Equal([first.Revision, second.Revision], all.Select(d => d.Revision));
            Assert.Equal([7], store.ReadDocument("channel", "orders")!.Body);
            Assert.Equal("delivery-stream", all[0].Kind);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task A_document_is_written_only_at_the_revision_its_writer_read()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using var store = Open(root);
        var created = store.WriteDocument("delivery-stream", "orders", [1], 0);
        var exists = Assert.Throws<DocumentConflictException>(() => store.WriteDocument("delivery-stream", "orders", [2], 0));
        Assert.Equal(created.Revision, exists.Current!.Revision);
        Assert.Equal([1], exists.Current.Body);

        var updated = store.WriteDocument("delivery-stream", "orders", [3], created.Revision);
        Assert.True(updated.Revision > created.Revision);
        var stale = Assert.Throws<DocumentConflictException>(() => store.WriteDocument("delivery-stream", "orders", [4], created.Revision));
        Assert.Equal(updated.Revision, stale.Current!.Revision);
        Assert.Equal([3], stale.Current.Body);
        Assert.Equal([3], store.ReadDocument("delivery-stream", "orders")!.Body);

        // Deleted and made again: the revision read before the deletion matches neither the gap nor the new document.
        store.DeleteDocument("delivery-stream", "orders");
        store.DeleteDocument("delivery-stream", "orders"); // nothing there: nothing happens
        Assert.Null(store.ReadDocument("delivery-stream", "orders"));
        var gone = Assert.Throws<DocumentConflictException>(() => store.WriteDocument("delivery-stream", "orders", [5], updated.Revision));
        Assert.Null(gone.Current);
        var again = store.WriteDocument("delivery-stream", "orders", [6], 0);
        Assert.True(again.Revision > updated.Revision, "revisions only grow, across a deletion");
        Assert.Throws<DocumentConflictException>(() => store.WriteDocument("delivery-stream", "orders", [7], updated.Revision));
    }

    [Fact(Timeout = 30000)]
    public async Task A_document_is_deleted_on_condition_only_at_the_revision_its_deleter_read()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using var store = Open(root);
        store.DeleteDocument("dynamodb-items-1", "lease", 0); // none stored, none expected: nothing happens
        var created = store.WriteDocument("dynamodb-items-1", "lease", [1], 0);
        var absent = Assert.Throws<DocumentConflictException>(() => store.DeleteDocument("dynamodb-items-1", "lease", 0));
        Assert.Equal(created.Revision, absent.Current!.Revision);
        var updated = store.WriteDocument("dynamodb-items-1", "lease", [2], created.Revision);

        var stale = Assert.Throws<DocumentConflictException>(() => store.DeleteDocument("dynamodb-items-1", "lease", created.Revision));
        Assert.Equal(updated.Revision, stale.Current!.Revision);
        Assert.Equal([2], store.ReadDocument("dynamodb-items-1", "lease")!.Body);

        store.DeleteDocument("dynamodb-items-1", "lease", updated.Revision);
        Assert.Null(store.ReadDocument("dynamodb-items-1", "lease"));
        Assert.Empty(store.ReadDocuments("dynamodb-items-1"));
        var gone = Assert.Throws<DocumentConflictException>(() => store.DeleteDocument("dynamodb-items-1", "lease", updated.Revision));
        Assert.Null(gone.Current);
        var again = store.WriteDocument("dynamodb-items-1", "lease", [3], 0);
        Assert.True(again.Revision > updated.Revision, "revisions only grow, across a conditional deletion");
    }

    [Fact(Timeout = 30000)]
    public async Task Writers_racing_on_one_document_each_win_at_most_once_per_revision()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using var store = Open(root);
        store.WriteDocument("counter", "c", BitConverter.GetBytes(0), 0);
        // Eight writers add one each by read-then-write, all starting at once: a lost update would leave the count short.
        const int Writers = 8, Adds = 25;
        using var start = new Barrier(Writers);
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (int added = 0; added < Adds;)
            {
                var read = store.ReadDocument("counter", "c")!;
                Thread.Yield(); // give the others a chance to write in between
                try
                {
                    store.WriteDocument("counter", "c", BitConverter.GetBytes(BitConverter.ToInt32(read.Body) + 1), read.Revision);
                    added++;
                }
                catch (DocumentConflictException)
                {
                }
            }
        }, TaskCreationOptions.LongRunning)));
        Assert.Equal(Writers * Adds, BitConverter.ToInt32(store.ReadDocument("counter", "c")!.Body));
    }

    [Theory]
    [InlineData("", "key")]
    [InlineData("Delivery", "key")]
    [InlineData("1kind", "key")]
    [InlineData("kind.with.dots", "key")]
    [InlineData("kind", "")]
    public async Task Kinds_and_keys_outside_the_rules_are_refused(string kind, string key)
    {
        await Task.Yield();
        using var root = new TempDirectory();
        using var store = Open(root);
        Assert.Throws<ArgumentException>(() => store.WriteDocument(kind, key, [1], 0));
        Assert.Throws<ArgumentException>(() => store.ReadDocument(kind, key));
        Assert.Throws<ArgumentException>(() => store.WriteDocument("kind", new string('k', MetadataDocument.MaxKeyBytes + 1), [1], 0));
    }
}

/// <summary>SQLite in the data directory, <see cref="MetadataStore"/>.</summary>
public sealed class SqliteMetadataStoreFactory : IMetadataStoreFactory
{
    public IMetadataStore Open(string directory) => new MetadataStore(directory);
}

/// <summary>A JetStream key-value bucket at R3, named after the test's directory so that a reopen finds it.</summary>
public sealed class JetStreamMetadataStoreFactory(Runnel.Storage.Tests.JetStream.NatsClusterFixture nats) : IMetadataStoreFactory
{
    public IMetadataStore Open(string directory)
    {
        string name = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(directory)))[..16];
        return Runnel.Storage.JetStream.JetStreamMetadataStore.OpenAsync(nats.JetStream, $"RUNNEL_META_TEST_{name}", 3).GetAwaiter().GetResult();
    }
}

public sealed class SqliteMetadataStoreContractTests() : MetadataStoreContractTests(new SqliteMetadataStoreFactory());

[Collection(Runnel.Storage.Tests.JetStream.NatsClusterCollection.Name)]
public sealed class JetStreamMetadataStoreContractTests(Runnel.Storage.Tests.JetStream.NatsClusterFixture nats)
    : MetadataStoreContractTests(new JetStreamMetadataStoreFactory(nats));
