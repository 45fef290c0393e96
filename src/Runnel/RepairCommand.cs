using Runnel.Storage;
using Runnel.Storage.Metadata;

namespace Runnel;

/// <summary>
/// <c>runnel repair --data-dir DIR [--dry-run]</c>: checks the metadata database and, when it is damaged,
/// rebuilds it from every readable row (<see cref="MetadataRepair"/>). Takes the data directory lock, so it
/// refuses while a server runs. Exit codes: 0 sound or repaired, 1 could not repair, 2 bad usage.
/// </summary>
public static class RepairCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        string? dataDir = null;
        bool dryRun = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--data-dir" when i + 1 < args.Length:
                    dataDir = args[++i];
                    break;
                case "--dry-run":
                    dryRun = true;
                    break;
                case "--help" or "-h":
                    PrintUsage(output);
                    return 0;
                default:
                    error.WriteLine($"runnel repair: unknown or incomplete option '{args[i]}'. Run 'runnel repair --help'.");
                    return 2;
            }
        }
        if (dataDir is null)
        {
            // No default: repairing the wrong directory by accident is worse than typing the flag.
            error.WriteLine("runnel repair: --data-dir is required (the directory the server runs with).");
            return 2;
        }
        if (!Directory.Exists(dataDir))
        {
            error.WriteLine($"runnel repair: {Path.GetFullPath(dataDir)} does not exist.");
            return 1;
        }
        try
        {
            using var directoryLock = DataDirectoryLock.Acquire(dataDir);
            var report = MetadataRepair.Run(dataDir, dryRun, DateTimeOffset.UtcNow);
            Print(report, Path.GetFullPath(dataDir), output);
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // DataDirectoryInUseException names the server holding the directory.
            error.WriteLine($"runnel repair: {e.Message}");
            return 1;
        }
    }

    public static void PrintUsage(TextWriter output) => output.WriteLine("""
        Usage: runnel repair --data-dir DIR [--dry-run]

        Checks DIR/metadata.db (SQLite's integrity check and Runnel's own parse of every stream). When it is
        damaged: copies every readable row into a new database, keeps the damaged file as
        metadata.db.damaged-<UTC time>, puts the new one in place, and lists what was kept and lost. Records
        are never deleted: the logs of a stream whose metadata is lost are moved to DIR/lost+found/<id>.
        Stop the server first (repair refuses while it runs) and back up DIR.

          --dry-run    report what would be kept and lost; change nothing
        """);

    private static void Print(RepairReport report, string dataDir, TextWriter output)
    {
        string prefix = report.DryRun ? "runnel repair (dry run)" : "runnel repair";
        if (!report.Damaged)
        {
            output.WriteLine(report.Problems.Count > 0
                ? $"{prefix}: {report.Problems[0]}"
                : $"{prefix}: {Path.Combine(dataDir, MetadataStore.FileName)} is sound; nothing to do.");
            return;
        }
        output.WriteLine($"{prefix}: {Path.Combine(dataDir, MetadataStore.FileName)} is damaged:");
        foreach (string problem in report.Problems.Take(5))
            output.WriteLine($"  {problem}");
        if (report.HeaderBytesRestored.Count > 0)
            output.WriteLine($"  header bytes restored before salvaging: {string.Join(", ", report.HeaderBytesRestored)}");
        foreach (var (table, regions) in report.UnreadableRegions)
            output.WriteLine($"  {table}: {regions} unreadable run(s) of rows skipped");
        string verb = report.DryRun ? "would keep" : "kept";
        output.WriteLine($"{verb}: {report.StreamsKept.Count} stream(s), {report.ShardsKept} shard(s), {report.TagsKept} tag(s), {report.ConsumersKept} consumer(s), {report.DocumentsKept} document(s), " +
            $"settings [{string.Join(", ", report.SettingsKept)}], sequences [{string.Join(", ", report.SequencesKept)}]");
        foreach (var lost in report.StreamsLost)
            output.WriteLine($"lost: stream {lost.Name ?? "(name unreadable)"} (id {lost.Id?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unreadable"}): {lost.Reason}");
        if (report.ShardsDropped + report.TagsDropped > 0)
            output.WriteLine($"lost: {report.ShardsDropped} shard row(s) and {report.TagsDropped} tag row(s) of lost streams or unreadable");
        if (report.ConsumersDropped + report.ConsumerTagsDropped > 0)
            output.WriteLine($"lost: {report.ConsumersDropped} consumer row(s) and {report.ConsumerTagsDropped} consumer tag row(s) of lost streams or unreadable; those consumers must be registered again.");
        if (report.DocumentsDropped > 0)
            output.WriteLine($"lost: {report.DocumentsDropped} document row(s) unreadable (delivery streams and the like): those must be made again.");
        if (!report.SettingsKept.Contains(MetadataRepair.IteratorKey))
            output.WriteLine($"lost: the shard-iterator key; the server makes a new one, and shard iterators handed out before are no longer accepted (clients get new ones with GetShardIterator).");
        if (report.StreamSequenceRaised)
            output.WriteLine($"the stream-id sequence was lost or behind; set to {report.StreamSequence} (the largest id found), so no id is reused.");
        foreach (var orphan in report.Orphans)
            output.WriteLine($"records of stream id {orphan.StreamId} are still on disk in {orphan.Directory}; their metadata is lost" +
                (report.DryRun ? " (the repair moves them to lost+found/ so the server does not delete them)." : "."));
        if (report.DamagedCopy is not null)
            output.WriteLine($"the damaged database is kept as {report.DamagedCopy} (with its -wal and -shm if they existed). The server can start now.");
    }
}
