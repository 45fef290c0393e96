using System.Globalization;
using Microsoft.Data.Sqlite;
using Runnel.Core.Model;

namespace Runnel.Storage.Metadata;

/// <summary>A stream whose row (or one of its shard or tag rows) is in the database but cannot be parsed; it is not served.</summary>
/// <param name="Id">The stream id (the row's key, always readable when the row is).</param>
/// <param name="Name">The stream name, when that column could be read.</param>
/// <param name="Problem">What is wrong, naming the table and column.</param>
public sealed record DamagedStream(long Id, string? Name, string Problem);

/// <summary>
/// What <see cref="MetadataStore.Load"/> found: the streams that load, the streams whose rows are damaged,
/// and rows that belong to no readable stream or cannot be parsed (consumer rows among them).
/// </summary>
public sealed record LoadedMetadata(IReadOnlyList<StreamInfo> Streams, IReadOnlyList<DamagedStream> Damaged, IReadOnlyList<string> UnattributedProblems)
{
    /// <summary>The consumers that load, of streams that load, ordered by stream id and name.</summary>
    public IReadOnlyList<ConsumerInfo> Consumers { get; init; } = [];

    /// <summary>Ids of consumer rows that cannot be parsed (each also described in <see cref="UnattributedProblems"/>); not served.</summary>
    public IReadOnlyList<long> DamagedConsumerIds { get; init; } = [];

    /// <summary>Every stream id in the streams table, loaded or damaged: their log directories are not orphans.</summary>
    public IReadOnlySet<long> StreamIds { get; } = Streams.Select(s => s.Id).Concat(Damaged.Select(d => d.Id)).ToHashSet();
}

public sealed partial class MetadataStore
{
    /// <summary>The streams that load (ordered by name); damaged ones are left out, see <see cref="Load"/>.</summary>
    public List<StreamInfo> LoadStreams() => [.. Load().Streams];

    /// <summary>
    /// Reads every stream. A stream whose rows cannot be parsed (an unknown status, a number that is not
    /// one, a shard missing from its lineage) is reported in <see cref="LoadedMetadata.Damaged"/> and the
    /// others load: one bad row must not hide the healthy streams. A failure to read the file itself
    /// (SQLite reports corruption) throws <see cref="MetadataDamagedException"/>.
    /// </summary>
    public LoadedMetadata Load()
    {
        lock (_lock)
        {
            try
            {
                return LoadRows();
            }
            catch (SqliteException e)
            {
                throw Translate(e, DatabasePath, "read");
            }
        }
    }

    private LoadedMetadata LoadRows()
    {
        var problems = new Dictionary<long, string>();
        var unattributed = new List<string>();
        void Fail(long id, string problem) => problems.TryAdd(id, problem);

        var shards = new Dictionary<long, List<ShardInfo>>();
        foreach (var row in Rows("SELECT stream_id, idx, start_hash, end_hash, epoch, parent, adjacent_parent, end_offset, created_ms, closed_ms, seq_seconds FROM shards ORDER BY stream_id, idx;"))
        {
            if (row[0] is not long streamId)
            {
                unattributed.Add($"a shards row has stream_id {Describe(row[0])}");
                continue;
            }
            try
            {
                var shard = new ShardInfo(
                    Int(row, 1, "idx"),
                    new HashKeyRange(Hash(row, 2, "start_hash"), Hash(row, 3, "end_hash")),
                    Long(row, 4, "epoch"),
                    row[5] is DBNull ? null : Int(row, 5, "parent"),
                    row[6] is DBNull ? null : Int(row, 6, "adjacent_parent"),
                    row[7] is DBNull ? null : Offset(row, 7, "end_offset"),
                    Time(row, 8, "created_ms"),
                    row[9] is DBNull ? null : Time(row, 9, "closed_ms"));
                // No seq_seconds: a shard from before schema 4, whose time WithLegacySequenceSeconds derives.
                shard = row[10] is DBNull
                    ? shard with { AcceptsLegacySequenceNumbers = true }
                    : shard with { SequenceSeconds = Long(row, 10, "seq_seconds") };
                if (!shards.TryGetValue(streamId, out var list))
                    shards[streamId] = list = [];
                list.Add(shard);
            }
            catch (FormatException e)
            {
                Fail(streamId, $"shards row {Describe(row[1])}: {e.Message}");
            }
        }

        var tags = new Dictionary<long, Dictionary<string, string>>();
        foreach (var row in Rows("SELECT stream_id, key, value FROM tags;"))
        {
            if (row[0] is not long streamId)
            {
                unattributed.Add($"a tags row has stream_id {Describe(row[0])}");
                continue;
            }
            try
            {
                if (!tags.TryGetValue(streamId, out var map))
                    tags[streamId] = map = new Dictionary<string, string>(StringComparer.Ordinal);
                map[Text(row, 1, "key")] = Text(row, 2, "value");
            }
            catch (FormatException e)
            {
                Fail(streamId, $"tags row: {e.Message}");
            }
        }

        var streams = new List<StreamInfo>();
        var damaged = new List<DamagedStream>();
        foreach (var row in Rows("SELECT id, name, status, mode, retention_hours, created_ms, status_until_ms, epoch, enhanced_metrics, max_record_kib, policy, distribution, warm_mibps, pending_reshard, encryption FROM streams ORDER BY id;"))
        {
            long id = (long)row[0]; // INTEGER PRIMARY KEY: the rowid, an integer whenever the row can be read
            string? name = row[1] as string;
            try
            {
                if (problems.TryGetValue(id, out string? childProblem))
                    throw new FormatException(childProblem);
                string metrics = Text(row, 8, "enhanced_metrics");
                var streamShards = shards.GetValueOrDefault(id) ?? [];
                // Indexes are handed out 0, 1, 2... and shards are never removed, so a gap means a lost row.
                for (int i = 0; i < streamShards.Count; i++)
                    if (streamShards[i].Index != i)
                        throw new FormatException($"shard index {i} is missing (found {streamShards[i].Index})");
                streamShards = WithLegacySequenceSeconds(streamShards);
                streams.Add(new StreamInfo(
                    Text(row, 1, "name"),
                    id,
                    Named<StreamStatus>(row, 2, "status"),
                    Named<StreamMode>(row, 3, "mode"),
                    Int(row, 4, "retention_hours"),
                    Time(row, 5, "created_ms"),
                    row[6] is DBNull ? null : Time(row, 6, "status_until_ms"),
                    streamShards,
                    tags.GetValueOrDefault(id) ?? new Dictionary<string, string>(StringComparer.Ordinal),
                    metrics.Length == 0 ? [] : metrics.Split(','),
                    Long(row, 7, "epoch"))
                {
                    MaxRecordSizeKiB = Int(row, 9, "max_record_kib"),
                    ResourcePolicy = row[10] is DBNull ? null : Text(row, 10, "policy"),
                    Distribution = Named<RecordDistribution>(row, 11, "distribution"),
                    WarmThroughputMiBps = row[12] is DBNull ? null : Int(row, 12, "warm_mibps"),
                    PendingReshard = row[13] is DBNull ? null : PendingReshardCodec.Decode(Text(row, 13, "pending_reshard")),
                    Encryption = row[14] is DBNull ? null : EncryptionCodec.Decode(Text(row, 14, "encryption")),
                });
            }
            catch (FormatException e)
            {
                damaged.Add(new DamagedStream(id, name, e.Message));
            }
        }
        streams.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var (consumers, damagedConsumers) = LoadConsumers(streams.Select(s => s.Id).ToHashSet(), unattributed);
        return new LoadedMetadata(streams, damaged, unattributed) { Consumers = consumers, DamagedConsumerIds = damagedConsumers };
    }

    /// <summary>
    /// Shards stored before schema 4 have no seq_seconds: they get their creation second, raised to one above
    /// their parents' (as <see cref="Resharding"/> gives new shards), and keep accepting the 43-digit sequence
    /// numbers Runnel issued before. Parents have lower indexes, so one pass in index order sees them first.
    /// </summary>
    private static List<ShardInfo> WithLegacySequenceSeconds(List<ShardInfo> shards)
    {
        var result = new List<ShardInfo>(shards.Count);
        long? SecondsOf(int? index) => index is { } i && i >= 0 && i < result.Count ? result[i].SequenceSeconds : null;
        foreach (var shard in shards)
            result.Add(shard.AcceptsLegacySequenceNumbers
                ? shard with { SequenceSeconds = Resharding.SequenceSecondsOf(shard.CreatedSeconds, SecondsOf(shard.ParentIndex), SecondsOf(shard.AdjacentParentIndex)) }
                : shard);
        return result;
    }

    /// <summary>
    /// The consumers of the streams that loaded. A consumer row that cannot be parsed (or one of its tag rows)
    /// is left out and described in <paramref name="problems"/>: a consumer holds no records, so it costs the
    /// client a new registration, not data. Consumers of damaged streams are left out with their stream.
    /// </summary>
    private (List<ConsumerInfo> Consumers, List<long> Damaged) LoadConsumers(HashSet<long> streamIds, List<string> problems)
    {
        var badConsumers = new Dictionary<long, string>();
        var tags = new Dictionary<long, Dictionary<string, string>>();
        foreach (var row in Rows("SELECT consumer_id, key, value FROM consumer_tags;"))
        {
            if (row[0] is not long consumerId)
            {
                problems.Add($"a consumer_tags row has consumer_id {Describe(row[0])}");
                continue;
            }
            try
            {
                if (!tags.TryGetValue(consumerId, out var map))
                    tags[consumerId] = map = new Dictionary<string, string>(StringComparer.Ordinal);
                map[Text(row, 1, "key")] = Text(row, 2, "value");
            }
            catch (FormatException e)
            {
                badConsumers.TryAdd(consumerId, $"consumer_tags row: {e.Message}");
            }
        }
        var consumers = new List<ConsumerInfo>();
        var damaged = new List<long>();
        foreach (var row in Rows("SELECT id, stream_id, name, status, created_ms, status_until_ms, policy FROM consumers ORDER BY stream_id, name;"))
        {
            long id = (long)row[0]; // INTEGER PRIMARY KEY
            try
            {
                if (badConsumers.TryGetValue(id, out string? tagProblem))
                    throw new FormatException(tagProblem);
                long streamId = Long(row, 1, "stream_id");
                if (!streamIds.Contains(streamId))
                    continue; // its stream is damaged (reported there) or gone
                consumers.Add(new ConsumerInfo(
                    id,
                    streamId,
                    Text(row, 2, "name"),
                    Named<ConsumerStatus>(row, 3, "status"),
                    Time(row, 4, "created_ms"),
                    row[5] is DBNull ? null : Time(row, 5, "status_until_ms"),
                    tags.GetValueOrDefault(id) ?? new Dictionary<string, string>(StringComparer.Ordinal))
                { ResourcePolicy = row[6] is DBNull ? null : Text(row, 6, "policy") });
            }
            catch (FormatException e)
            {
                damaged.Add(id);
                problems.Add($"consumer {(row[2] as string) ?? "(name unreadable)"} (id {id}) is not served: {e.Message}");
            }
        }
        return (consumers, damaged);
    }

    /// <summary>Every row of a query as raw values (long, double, string, byte[] or DBNull), so each row is parsed on its own.</summary>
    private IEnumerable<object[]> Rows(string sql)
    {
        using var cmd = Command(sql);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var values = new object[r.FieldCount];
            r.GetValues(values);
            yield return values;
        }
    }

    private static long Long(object[] row, int i, string column) =>
        row[i] is long value ? value : throw new FormatException($"{column} is {Describe(row[i])}, not an integer");

    private static int Int(object[] row, int i, string column) =>
        Long(row, i, column) is var value && value is >= int.MinValue and <= int.MaxValue
            ? (int)value
            : throw new FormatException($"{column} is {value}, out of range");

    private static string Text(object[] row, int i, string column) =>
        row[i] as string ?? throw new FormatException($"{column} is {Describe(row[i])}, not text");

    private static DateTimeOffset Time(object[] row, int i, string column)
    {
        long ms = Long(row, i, column);
        return ms >= DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : throw new FormatException($"{column} is {ms}, not a time");
    }

    private static UInt128 Hash(object[] row, int i, string column) =>
        UInt128.TryParse(Text(row, i, column), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"{column} is {Describe(row[i])}, not a 128-bit hash key");

    private static ulong Offset(object[] row, int i, string column) =>
        ulong.TryParse(Text(row, i, column), NumberStyles.None, CultureInfo.InvariantCulture, out ulong value)
            ? value
            : throw new FormatException($"{column} is {Describe(row[i])}, not an offset");

    /// <summary>An enum stored by member name; exact names only (Enum.Parse would also take numbers and "A, B").</summary>
    private static T Named<T>(object[] row, int i, string column) where T : struct, Enum
    {
        string text = Text(row, i, column);
        return Enum.GetNames<T>().Contains(text, StringComparer.Ordinal)
            ? Enum.Parse<T>(text)
            : throw new FormatException($"{column} is '{Truncate(text)}', not one of {string.Join(", ", Enum.GetNames<T>())}");
    }

    private static string Describe(object value) => value switch
    {
        DBNull => "NULL",
        string s => $"'{Truncate(s)}'",
        byte[] b => $"a {b.Length}-byte blob",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "?",
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
