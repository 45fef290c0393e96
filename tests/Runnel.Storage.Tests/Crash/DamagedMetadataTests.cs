using System.Text;
using Microsoft.Data.Sqlite;
using Runnel.Core.Model;
using Runnel.Storage.Metadata;

namespace Runnel.Storage.Tests.Crash;

/// <summary>
/// metadata.db damaged on purpose (header bytes, a page of the streams table, one row) and what start-up
/// and <c>runnel repair</c> make of it: a clear <see cref="MetadataDamagedException"/> for structural damage,
/// the other streams for a bad row, and a repair that keeps every readable row.
/// </summary>
[Trait("Category", "CrashConsistency")]
public class DamagedMetadataTests
{
    private static readonly DateTimeOffset Created = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
    private static readonly byte[] IteratorKey = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    // Long names: 50 rows then fill three pages of the streams table, so one page can be damaged alone.
    internal static string Name(int i) => $"stream-{i:D3}-{new string('n', 100)}";

    /// <summary>Streams 1..count, three shards and two tags each, the iterator key and the id sequence; closed (WAL folded in).</summary>
    internal static void CreateDatabase(string root, int count)
    {
        using var store = new MetadataStore(root);
        var ranges = HashKeyRange.SplitEvenly(3);
        for (int i = 1; i <= count; i++)
        {
            long id = store.NextSequence(MetadataRepair.StreamSequence);
            var shards = ranges.Select((r, idx) => new ShardInfo(idx, r, 0, null, null, null, Created, null)).ToList();
            var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["team"] = $"team-{i}", ["padding"] = new string('p', 60) };
            store.Save(new StreamInfo(Name(i), id, StreamStatus.Active, StreamMode.Provisioned, 24, Created, null, shards, tags, [], 0));
        }
        Sql(root, $"INSERT INTO settings (key, value) VALUES ('{MetadataRepair.IteratorKey}', x'{Convert.ToHexString(IteratorKey)}');");
    }

    internal static void Sql(string root, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(root, MetadataStore.FileName)};Pooling=False");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>The file offset of a table-leaf page (type 0x0D) holding <paramref name="text"/>.</summary>
    private static (long PageStart, int Offset) FindInTableLeaf(string root, string text)
    {
        byte[] file = File.ReadAllBytes(Path.Combine(root, MetadataStore.FileName));
        int pageSize = (file[16] << 8) | file[17];
        byte[] needle = Encoding.UTF8.GetBytes(text);
        for (int page = 1; page * pageSize < file.Length; page++)
        {
            int start = page * pageSize;
            if (file[start] != 0x0D)
                continue;
            int at = file.AsSpan(start, pageSize).IndexOf(needle);
            if (at >= 0)
                return (start, start + at);
        }
        throw new InvalidOperationException($"no table leaf page holds '{text}'");
    }

    private static void Overwrite(string root, long offset, byte[] bytes)
    {
        using var file = new FileStream(Path.Combine(root, MetadataStore.FileName), FileMode.Open, FileAccess.Write);
        file.Position = offset;
        file.Write(bytes);
    }

    [Fact(Timeout = 60000)]
    public async Task A_damaged_header_magic_is_reported_naming_the_file_and_the_repair()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        CreateDatabase(root.Path, 5);
        Overwrite(root.Path, 0, "NOT A DATABASE!\0"u8.ToArray());
        var damaged = Assert.Throws<MetadataDamagedException>(() => new MetadataStore(root.Path));
        Assert.Contains(Path.Combine(root.Path, MetadataStore.FileName), damaged.Message, StringComparison.Ordinal);
        Assert.Contains("runnel repair --data-dir", damaged.Message, StringComparison.Ordinal);
        Assert.NotEmpty(damaged.Problems);
    }

    /// <summary>Every header byte flipped in turn: the store either loads every stream as it was, or says the file is damaged.</summary>
    [Fact(Timeout = 120000)]
    public async Task Every_header_byte_flipped_either_loads_every_stream_or_is_reported_as_damaged()
    {
        await Task.Yield();
        using var template = new TempDirectory();
        CreateDatabase(template.Path, 5);
        byte[] original = File.ReadAllBytes(Path.Combine(template.Path, MetadataStore.FileName));
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int offset = 0; offset < 100; offset++)
        {
            using var root = new TempDirectory();
            byte[] copy = (byte[])original.Clone();
            copy[offset] ^= 0xFF;
            File.WriteAllBytes(Path.Combine(root.Path, MetadataStore.FileName), copy);
            string outcome;
            try
            {
                using var store = new MetadataStore(root.Path);
                Assert.Equal(Enumerable.Range(1, 5).Select(Name), store.LoadStreams().Select(s => s.Name));
                outcome = "loads";
            }
            catch (MetadataDamagedException)
            {
                outcome = "damaged";
            }
            catch (InvalidDataException e) when (e.Message.Contains("schema version", StringComparison.Ordinal))
            {
                outcome = "schema version"; // user_version flipped upwards: indistinguishable from a newer Runnel
            }
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }
        Assert.True(outcomes.GetValueOrDefault("damaged") > 0, string.Join(", ", outcomes));
    }

    [Fact(Timeout = 60000)]
    public async Task A_damaged_page_of_the_streams_table_is_reported_at_open()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        CreateDatabase(root.Path, 50);
        var (page, _) = FindInTableLeaf(root.Path, Name(25) + "Active");
        Overwrite(root.Path, page + 1, Enumerable.Repeat((byte)0xA5, 12).ToArray()); // the leaf's header: free block, cell count, content start
        var damaged = Assert.Throws<MetadataDamagedException>(() => new MetadataStore(root.Path));
        Assert.Contains("runnel repair", damaged.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60000)]
    public async Task A_bad_status_in_one_row_skips_that_stream_and_loads_the_others()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        CreateDatabase(root.Path, 10);
        Sql(root.Path, "UPDATE streams SET status = 'Bogus' WHERE id = 4;");
        using var store = new MetadataStore(root.Path);
        var loaded = store.Load();
        Assert.Equal(Enumerable.Range(1, 10).Where(i => i != 4).Select(Name), loaded.Streams.Select(s => s.Name));
        var bad = Assert.Single(loaded.Damaged);
        Assert.Equal((4L, Name(4)), (bad.Id, bad.Name));
        Assert.Contains("status is 'Bogus'", bad.Problem, StringComparison.Ordinal);
        Assert.Contains(4L, loaded.StreamIds);
    }

    [Fact(Timeout = 60000)]
    public async Task A_byte_flipped_inside_a_rows_status_skips_that_stream_only()
    {
        await Task.Yield();
        using var root = new TempDirectory();
        CreateDatabase(root.Path, 50);
        var (_, at) = FindInTableLeaf(root.Path, Name(25) + "Active");
        Overwrite(root.Path, at + Name(25).Length, "@"u8.ToArray()); // Active -> @ctive, same length: the page stays sound
        using var store = new MetadataStore(root.Path);
        var loaded = store.Load();
        Assert.Equal(49, loaded.Streams.Count);
        Assert.Equal(Name(25), Assert.Single(loaded.Damaged).Name);
    }

    [Theory(Timeout = 60000)]
    [InlineData("UPDATE shards SET start_hash = 'x' WHERE stream_id = 2 AND idx = 1;", "start_hash")]
    [InlineData("DELETE FROM shards WHERE stream_id = 2 AND idx = 1;", "shard index 1 is missing")]
    [InlineData("UPDATE tags SET value = x'00' WHERE stream_id = 2;", "not text")]
    [InlineData("UPDATE streams SET created_ms = 'yesterday' WHERE id = 2;", "created_ms")]
    public async Task A_bad_shard_or_tag_row_skips_its_stream(string damage, string reported)
    {
        await Task.Yield();
        using var root = new TempDirectory();
        CreateDatabase(root.Path, 3);
        Sql(root.Path, damage);
        using var store = new MetadataStore(root.Path);
        var loaded = store.Load();
        Assert.Equal([Name(1), Name(3)], loaded.Streams.Select(s => s.Name));
        Assert.Contains(reported, Assert.Single(loaded.Damaged).Problem, StringComparison.Ordinal);
    }
}
