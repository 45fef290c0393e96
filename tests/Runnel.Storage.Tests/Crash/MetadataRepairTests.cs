using System.Text;
using Runnel.Storage.Metadata;

namespace Runnel.Storage.Tests.Crash;

/// <summary><c>runnel repair</c>'s engine: what it keeps, what it reports lost, and that it never deletes records.</summary>
[Trait("Category", "CrashConsistency")]
public class MetadataRepairTests
{
    private static readonly DateTimeOffset Now = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static string Name(int i) => DamagedMetadataTests.Name(i);

    private static string StreamDirectory(string root, long id) => Path.Combine(root, "streams", id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A log directory with a file in it for each stream id, as the server would have.</summary>
    private static void CreateLogs(string root, IEnumerable<long> ids)
    {
        foreach (long id in ids)
        {
            Directory.CreateDirectory(Path.Combine(StreamDirectory(root, id), "000000000000"));
            File.WriteAllText(Path.Combine(StreamDirectory(root, id), "000000000000", "records"), $"records of {id}");
        }
    }

    [Fact(Timeout = 60000)]
    public async Task A_sound_database_is_left_alone()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        DamagedMetadataTests.CreateDatabase(root.Path, 3);
        byte[] before = File.ReadAllBytes(Path.Combine(root.Path, MetadataStore.FileName));
        var report = MetadataRepair.Run(root.Path, dryRun: false, Now);
        Assert.False(report.Damaged);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(root.Path, MetadataStore.FileName)));
        Assert.Empty(Directory.GetDirectories(root.Path, "repair-*"));
        Assert.Empty(Directory.GetFiles(root.Path, "*.damaged-*"));
    }

    [Fact(Timeout = 60000)]
    public async Task A_damaged_header_is_restored_and_every_stream_kept()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        DamagedMetadataTests.CreateDatabase(root.Path, 20);
        CreateLogs(root.Path, Enumerable.Range(1, 20).Select(i => (long)i));
        ulong revision;
        using (var documents = new MetadataStore(root.Path))
        {
            documents.WriteDocument("delivery-stream", "to-s3", [1, 2], 0);
            revision = documents.WriteDocument("delivery-stream", "to-files", [3], 0).Revision;
        }
        using (var file = new FileStream(Path.Combine(root.Path, MetadataStore.FileName), FileMode.Open, FileAccess.Write))
            file.Write("NOT A DATABASE!\0"u8);
        var report = MetadataRepair.Run(root.Path, dryRun: false, Now);
        Assert.True(report.Damaged);
        Assert.Equal((2, 0), (report.DocumentsKept, report.DocumentsDropped));
        Assert.Equal(Enumerable.Range(1, 20).Select(Name), report.StreamsKept);
        Assert.Empty(report.StreamsLost);
        Assert.Equal(60, report.ShardsKept);
        Assert.Contains(MetadataRepair.IteratorKey, report.SettingsKept);
        Assert.Contains(0, report.HeaderBytesRestored);
        Assert.Empty(report.Orphans);
        Assert.Equal(Path.Combine(root.Path, "metadata.db.damaged-20250304T050607Z"), report.DamagedCopy);
        Assert.True(File.Exists(report.DamagedCopy));
        using var store = new MetadataStore(root.Path);
        Assert.Equal(20, store.LoadStreams().Count);
        Assert.Equal(21, store.NextSequence(MetadataRepair.StreamSequence));
        Assert.Equal(["to-files", "to-s3"], store.ReadDocuments("delivery-stream").Select(d => d.Key));
        Assert.Equal(revision, store.ReadDocument("delivery-stream", "to-files")!.Revision);
        Assert.True(store.WriteDocument("delivery-stream", "to-files", [4], revision).Revision > revision, "the revision sequence survived");
        Assert.False(Directory.Exists(Path.Combine(root.Path, "repair-20250304T050607Z")));
    }

    [Fact(Timeout = 60000)]
    public async Task A_damaged_page_costs_only_its_rows_and_their_logs_are_moved_not_deleted()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        DamagedMetadataTests.CreateDatabase(root.Path, 80);
        CreateLogs(root.Path, Enumerable.Range(1, 80).Select(i => (long)i));
        string db = Path.Combine(root.Path, MetadataStore.FileName);
        byte[] file = File.ReadAllBytes(db);
        int pageSize = (file[16] << 8) | file[17];
        int page = Enumerable.Range(1, (file.Length / pageSize) - 1)
            .First(p => file[p * pageSize] == 0x0D && file.AsSpan(p * pageSize, pageSize).IndexOf(Encoding.UTF8.GetBytes(Name(40) + "Active")) >= 0);
        Array.Fill(file, (byte)0xA5, (page * pageSize) + 1, 12);
        File.WriteAllBytes(db, file);

        var dry = MetadataRepair.Run(root.Path, dryRun: true, Now);
        Assert.True(dry.Damaged);
        Assert.Equal(file, File.ReadAllBytes(db)); // a dry run changes nothing
        var report = MetadataRepair.Run(root.Path, dryRun: false, Now);
        Assert.Equal(dry.StreamsKept, report.StreamsKept);

        Assert.Contains(Name(1), report.StreamsKept);
        Assert.Contains(Name(80), report.StreamsKept);
        Assert.DoesNotContain(Name(40), report.StreamsKept);
        Assert.Equal(1, report.UnreadableRegions["streams"]);
        var lostIds = Enumerable.Range(1, 80).Select(i => (long)i).Where(id => !report.StreamsKept.Contains(Name((int)id))).ToList();
        Assert.Equal(lostIds, report.Orphans.Select(o => o.StreamId));
        foreach (var orphan in report.Orphans)
        {
            Assert.Equal(Path.Combine(root.Path, MetadataRepair.LostAndFound, orphan.StreamId.ToString(System.Globalization.CultureInfo.InvariantCulture)), orphan.Directory);
            Assert.Equal($"records of {orphan.StreamId}", File.ReadAllText(Path.Combine(orphan.Directory, "000000000000", "records")));
        }
        using var store = new MetadataStore(root.Path);
        Assert.Equal(report.StreamsKept, store.LoadStreams().Select(s => s.Name));
        Assert.Equal(81, store.NextSequence(MetadataRepair.StreamSequence)); // never back over an id of the lost streams
    }

    [Fact(Timeout = 60000)]
    public async Task A_bad_row_is_dropped_its_logs_kept_and_a_lost_sequence_rises_past_every_id_on_disk()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        DamagedMetadataTests.CreateDatabase(root.Path, 5);
        CreateLogs(root.Path, [1, 2, 3, 4, 5, 9]); // 9: logs whose row is long gone
        DamagedMetadataTests.Sql(root.Path, "UPDATE streams SET mode = 'Sideways' WHERE id = 3; DELETE FROM sequences;");
        var report = MetadataRepair.Run(root.Path, dryRun: false, Now);
        Assert.True(report.Damaged);
        Assert.Equal([Name(1), Name(2), Name(4), Name(5)], report.StreamsKept);
        var lost = Assert.Single(report.StreamsLost);
        Assert.Equal((3L, Name(3)), (lost.Id, lost.Name));
        Assert.Contains("mode is 'Sideways'", lost.Reason, StringComparison.Ordinal);
        Assert.Equal(3, report.ShardsDropped);
        Assert.Equal(2, report.TagsDropped);
        Assert.Equal([3L, 9L], report.Orphans.Select(o => o.StreamId));
        Assert.True(report.StreamSequenceRaised);
        Assert.Equal(9, report.StreamSequence);
        Assert.True(Directory.Exists(Path.Combine(root.Path, MetadataRepair.LostAndFound, "3")));
        Assert.False(Directory.Exists(StreamDirectory(root.Path, 3)));
        using var store = new MetadataStore(root.Path);
        Assert.Equal(10, store.NextSequence(MetadataRepair.StreamSequence));
        Assert.Empty(store.Load().Damaged);
    }

    [Fact(Timeout = 60000)]
    public async Task An_interrupted_swap_stops_the_server_and_the_next_repair_finishes_it()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        DamagedMetadataTests.CreateDatabase(root.Path, 2);
        // A swap that stopped after its marker: the rebuilt file waits in the scratch directory.
        string scratch = Path.Combine(root.Path, "repair-20250101T000000Z");
        Directory.CreateDirectory(scratch);
        File.Copy(Path.Combine(root.Path, MetadataStore.FileName), Path.Combine(scratch, MetadataStore.FileName));
        File.WriteAllText(Path.Combine(scratch, "swapping"), "");
        var refused = Assert.Throws<IOException>(() => new MetadataStore(root.Path));
        Assert.Contains("runnel repair", refused.Message, StringComparison.Ordinal);
        var report = MetadataRepair.Run(root.Path, dryRun: false, Now);
        Assert.False(report.Damaged);
        Assert.False(Directory.Exists(scratch));
        using var store = new MetadataStore(root.Path);
        Assert.Equal(2, store.LoadStreams().Count);
    }

    [Fact(Timeout = 60000)]
    public async Task Consumers_of_kept_streams_are_kept_with_their_tags_and_an_unparseable_consumer_row_is_dropped()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        DamagedMetadataTests.CreateDatabase(root.Path, 3);
        CreateLogs(root.Path, [1, 2, 3]);
        var created = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
        using (var store = new MetadataStore(root.Path))
        {
            var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["owner"] = "search" };
            store.AddConsumer(new Core.Model.ConsumerInfo(0, 1, "reader", Core.Model.ConsumerStatus.Active, created, null, tags));
            store.AddConsumer(new Core.Model.ConsumerInfo(0, 2, "broken", Core.Model.ConsumerStatus.Active, created, null, tags));
        }
        using (var connection = MetadataStore.Connect(Path.Combine(root.Path, MetadataStore.FileName)))
        {
            connection.Open();
            using var damage = connection.CreateCommand();
            damage.CommandText = "UPDATE consumers SET created_ms = 'yesterday' WHERE name = 'broken';";
            damage.ExecuteNonQuery();
        }
        var report = MetadataRepair.Run(root.Path, dryRun: false, Now);
        Assert.True(report.Damaged); // the server would skip the row: repair drops it
        Assert.Contains(report.Problems, p => p.Contains("consumer broken", StringComparison.Ordinal));
        Assert.Equal(3, report.StreamsKept.Count);
        Assert.Equal((1, 1, 0), (report.ConsumersKept, report.ConsumersDropped, report.ConsumerTagsDropped));
        using var repaired = new MetadataStore(root.Path);
        var loaded = repaired.Load();
        Assert.Empty(loaded.UnattributedProblems);
        var reader = Assert.Single(loaded.Consumers);
        Assert.Equal(("reader", 1L, created, "search"), (reader.Name, reader.StreamId, reader.CreatedAt, reader.Tags["owner"]));
    }
}
