using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace Runnel.Storage.Metadata;

/// <summary>
/// <c>runnel repair</c>: checks <c>metadata.db</c> and, when it is damaged, builds a new one from every row
/// that can be read and parsed, keeps the damaged file as <c>metadata.db.damaged-{UTC stamp}</c> and swaps
/// the new one in. It never deletes records: the logs of streams whose metadata is lost are moved to
/// <c>lost+found/{id}</c>, out of reach of the server's orphan clean-up.
/// <para>The original files are only read (copied) until the swap; all salvage work happens on a copy in
/// <c>{dataDir}/repair-{stamp}/</c>. The swap is marked by a file in that directory: a server refuses to
/// start while it exists, and the next repair finishes the swap.</para>
/// Not thread-safe; the caller holds the <see cref="DataDirectoryLock"/>.
/// </summary>
public static class MetadataRepair
{
    /// <summary>The settings key of the shard-iterator secret (StreamService's).</summary>
    public const string IteratorKey = "shard-iterator-key";
    /// <summary>The sequence that hands out stream ids (StreamService's).</summary>
    public const string StreamSequence = "stream";
    public const string LostAndFound = "lost+found";
    internal const string ScratchPrefix = "repair-";
    internal const string SwapMarker = "swapping";
    // consumers and consumer_tags came with schema version 3, documents with 7: a damaged file of an older version has none.
    private static readonly string[] Tables = ["streams", "shards", "tags", "settings", "sequences", "consumers", "consumer_tags", "documents"];

    public static RepairReport Run(string dataDir, bool dryRun, DateTimeOffset now)
    {
        string database = Path.Combine(dataDir, MetadataStore.FileName);
        if (!dryRun)
            FinishInterruptedSwap(dataDir);
        RemoveAbandonedScratch(dataDir);
        if (!File.Exists(database))
            return new RepairReport { Damaged = false, DryRun = dryRun, Problems = [$"{database} does not exist; the server creates it at start-up."] };

        string stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string scratch = Path.Combine(dataDir, ScratchPrefix + stamp);
        Directory.CreateDirectory(scratch);
        bool keepScratch = false;
        try
        {
            string copy = Path.Combine(scratch, "damaged.db");
            File.Copy(database, copy);
            if (File.Exists(database + "-wal"))
                File.Copy(database + "-wal", copy + "-wal"); // committed transactions not yet in the main file
            var problems = Diagnose(copy);
            if (problems.Count == 0)
                return new RepairReport { Damaged = false, DryRun = dryRun };

            var headerFixes = MetadataSalvage.RepairHeader(copy);
            var salvaged = ReadAll(copy);
            string fresh = Path.Combine(scratch, MetadataStore.FileName);
            var rebuilt = MetadataRebuild.Build(fresh, salvaged, StreamIdsOnDisk(dataDir));
            var orphans = StreamDirectories(dataDir).Where(d => !rebuilt.KeptIds.Contains(d.Id)).ToList();
            var report = rebuilt.Report with
            {
                Damaged = true,
                DryRun = dryRun,
                Problems = problems,
                HeaderBytesRestored = headerFixes,
                UnreadableRegions = salvaged.Where(t => t.Value.UnreadableRegions > 0).ToDictionary(t => t.Key, t => t.Value.UnreadableRegions),
            };
            if (dryRun)
                return report with { Orphans = orphans.Select(o => new LogsWithoutMetadata(o.Id, o.Path)).ToList() };

            // Logs first: once the new database is in, the server would delete any directory it does not name.
            var moved = orphans.Select(o => new LogsWithoutMetadata(o.Id, MoveToLostAndFound(dataDir, o.Id, o.Path, stamp))).ToList();
            keepScratch = true; // from here an interruption leaves the marker, which the next repair finishes
            string damagedCopy = Swap(dataDir, scratch, stamp);
            keepScratch = false;
            return report with { Orphans = moved, DamagedCopy = damagedCopy };
        }
        finally
        {
            if (!keepScratch)
                TryDelete(scratch);
        }
    }

    /// <summary>Empty when the database opens, checks sound and every stream parses; otherwise what is wrong.</summary>
    private static List<string> Diagnose(string databasePath)
    {
        try
        {
            using var store = MetadataStore.OpenFile(databasePath);
            var loaded = store.Load();
            var problems = loaded.Damaged.Select(d => $"stream {d.Name ?? "(name unreadable)"} (id {d.Id}): {d.Problem}")
                .Concat(loaded.UnattributedProblems).ToList();
            using var connection = MetadataStore.Connect(databasePath);
            connection.Open();
            using var key = connection.CreateCommand();
            key.CommandText = $"SELECT value FROM settings WHERE key = '{IteratorKey}';";
            if (key.ExecuteScalar() is { } value && value is not byte[] { Length: 32 })
                problems.Add($"settings row '{IteratorKey}' is not a 32-byte blob");
            return problems;
        }
        catch (MetadataDamagedException e)
        {
            return [.. e.Problems];
        }
    }

    private static Dictionary<string, SalvagedTable> ReadAll(string databasePath)
    {
        var tables = new Dictionary<string, SalvagedTable>(StringComparer.Ordinal);
        using var source = MetadataStore.Connect(databasePath);
        try
        {
            source.Open();
        }
        catch (SqliteException e)
        {
            foreach (string table in Tables)
                tables[table] = new SalvagedTable([], 1, e.Message);
            return tables;
        }
        foreach (string table in Tables)
            tables[table] = MetadataSalvage.TableIsMissing(source, table) ? new SalvagedTable([], 0, null) : MetadataSalvage.ReadTable(source, table);
        return tables;
    }

    private static IEnumerable<(long Id, string Path)> StreamDirectories(string dataDir)
    {
        string streams = Path.Combine(dataDir, "streams");
        if (!Directory.Exists(streams))
            return [];
        return Directory.GetDirectories(streams)
            .Select(d => (Ok: long.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out long id), Id: id, Path: d))
            .Where(d => d.Ok)
            .Select(d => (d.Id, d.Path))
            .OrderBy(d => d.Id);
    }

    /// <summary>Ids named by log directories, in streams/ and in lost+found/: the id sequence must pass all of them.</summary>
    private static IEnumerable<long> StreamIdsOnDisk(string dataDir)
    {
        var ids = StreamDirectories(dataDir).Select(d => d.Id).ToList();
        string lost = Path.Combine(dataDir, LostAndFound);
        if (Directory.Exists(lost))
            foreach (string d in Directory.GetDirectories(lost))
                if (long.TryParse(Path.GetFileName(d).Split('-')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long id))
                    ids.Add(id);
        return ids;
    }

    private static string MoveToLostAndFound(string dataDir, long id, string from, string stamp)
    {
        string lost = Path.Combine(dataDir, LostAndFound);
        Directory.CreateDirectory(lost);
        string to = Path.Combine(lost, id.ToString(CultureInfo.InvariantCulture));
        if (Directory.Exists(to))
            to += "-" + stamp;
        Directory.Move(from, to);
        return to;
    }

    /// <summary>
    /// Puts the rebuilt database in place. The damaged file is copied aside first, so metadata.db always
    /// exists; its -wal is moved aside before the rename, because SQLite would replay a stale WAL onto the
    /// new file. Returns the damaged copy's path.
    /// </summary>
    private static string Swap(string dataDir, string scratch, string stamp)
    {
        string marker = Path.Combine(scratch, SwapMarker);
        File.WriteAllText(marker, $"runnel repair {stamp}: moving {MetadataStore.FileName} in from here\n");
        Posix.FlushDirectory(scratch);
        string database = Path.Combine(dataDir, MetadataStore.FileName);
        string damaged = $"{database}.damaged-{stamp}";
        File.Copy(database, damaged, overwrite: true);
        using (var handle = File.OpenHandle(damaged, FileMode.Open, FileAccess.ReadWrite))
            RandomAccess.FlushToDisk(handle);
        CompleteSwap(dataDir, scratch, damaged);
        return damaged;
    }

    private static void CompleteSwap(string dataDir, string scratch, string damaged)
    {
        string database = Path.Combine(dataDir, MetadataStore.FileName);
        foreach (string suffix in new[] { "-wal", "-shm" })
            if (File.Exists(database + suffix))
                File.Move(database + suffix, damaged + suffix, overwrite: true);
        string fresh = Path.Combine(scratch, MetadataStore.FileName);
        if (File.Exists(fresh))
            File.Move(fresh, database, overwrite: true);
        Posix.FlushDirectory(dataDir);
        Directory.Delete(scratch, recursive: true);
    }

    /// <summary>A swap interrupted by a crash: the new file is complete (it was built before the marker), so finish it.</summary>
    private static void FinishInterruptedSwap(string dataDir)
    {
        foreach (string scratch in Directory.GetDirectories(dataDir, ScratchPrefix + "*"))
        {
            if (!File.Exists(Path.Combine(scratch, SwapMarker)))
                continue;
            string stamp = Path.GetFileName(scratch)[ScratchPrefix.Length..];
            CompleteSwap(dataDir, scratch, Path.Combine(dataDir, $"{MetadataStore.FileName}.damaged-{stamp}"));
        }
    }

    /// <summary>Scratch directories of a repair that stopped before its swap: copies only, safe to remove.</summary>
    private static void RemoveAbandonedScratch(string dataDir)
    {
        foreach (string scratch in Directory.GetDirectories(dataDir, ScratchPrefix + "*"))
            if (!File.Exists(Path.Combine(scratch, SwapMarker)))
                TryDelete(scratch);
    }

    /// <summary>The path of an unfinished swap's scratch directory under <paramref name="dataDir"/>, if any: the server must not start then.</summary>
    public static string? InterruptedSwap(string dataDir) =>
        Directory.Exists(dataDir)
            ? Directory.GetDirectories(dataDir, ScratchPrefix + "*").FirstOrDefault(d => File.Exists(Path.Combine(d, SwapMarker)))
            : null;

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
