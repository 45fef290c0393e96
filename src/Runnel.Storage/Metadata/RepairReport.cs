namespace Runnel.Storage.Metadata;

/// <summary>A stream whose metadata <c>runnel repair</c> could not keep.</summary>
/// <param name="Id">The stream id, when it could be read.</param>
/// <param name="Name">The stream name, when it could be read.</param>
/// <param name="Reason">Why it was dropped.</param>
public sealed record LostStream(long? Id, string? Name, string Reason);

/// <summary>The shard logs of a stream that has no metadata after the repair, and where they are now.</summary>
public sealed record LogsWithoutMetadata(long StreamId, string Directory);

/// <summary>What <see cref="MetadataRepair.Run"/> found and did.</summary>
public sealed record RepairReport
{
    /// <summary>False when the database was sound (nothing was changed) or absent.</summary>
    public required bool Damaged { get; init; }

    /// <summary>Whether this was a dry run (nothing on disk changed, only the scratch copy).</summary>
    public required bool DryRun { get; init; }

    /// <summary>What the integrity check and the row parser reported.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>Offsets of header bytes restored to their only valid value before salvaging.</summary>
    public IReadOnlyList<int> HeaderBytesRestored { get; init; } = [];

    /// <summary>Names of the streams kept, with their shards and tags.</summary>
    public IReadOnlyList<string> StreamsKept { get; init; } = [];

    public IReadOnlyList<LostStream> StreamsLost { get; init; } = [];

    public int ShardsKept { get; init; }

    /// <summary>Shard rows read but dropped (their stream was lost, or the row was bad).</summary>
    public int ShardsDropped { get; init; }

    public int TagsKept { get; init; }

    public int TagsDropped { get; init; }

    /// <summary>Registered consumers kept, with their tags.</summary>
    public int ConsumersKept { get; init; }

    /// <summary>Consumer rows read but dropped (their stream was lost, or the row was bad): those consumers must register again.</summary>
    public int ConsumersDropped { get; init; }

    /// <summary>Consumer tag rows read but dropped (their consumer was dropped, or the row was bad).</summary>
    public int ConsumerTagsDropped { get; init; }

    /// <summary>Other services' documents kept (Firehose's delivery streams, …).</summary>
    public int DocumentsKept { get; init; }

    /// <summary>Document rows read but dropped (unreadable): what they described must be made again.</summary>
    public int DocumentsDropped { get; init; }

    /// <summary>Settings keys kept (e.g. <c>shard-iterator-key</c>).</summary>
    public IReadOnlyList<string> SettingsKept { get; init; } = [];

    /// <summary>Sequence names kept as they were.</summary>
    public IReadOnlyList<string> SequencesKept { get; init; } = [];

    /// <summary>The value of the stream-id sequence after the repair (never lower than before, nor than any id on disk).</summary>
    public long StreamSequence { get; init; }

    /// <summary>True when the stream-id sequence was lost or lower than an id found, and was raised.</summary>
    public bool StreamSequenceRaised { get; init; }

    /// <summary>Per table, how many runs of rows SQLite could not read (the rows in them are lost; their number is unknown).</summary>
    public IReadOnlyDictionary<string, int> UnreadableRegions { get; init; } = new Dictionary<string, int>();

    /// <summary>Where the damaged database (and its -wal and -shm) were kept; null on a dry run.</summary>
    public string? DamagedCopy { get; init; }

    /// <summary>Log directories of streams without metadata, moved out of <c>streams/</c> so the server does not delete them.</summary>
    public IReadOnlyList<LogsWithoutMetadata> Orphans { get; init; } = [];
}
