using Runnel.Storage.Metadata;

namespace Runnel.Server.CloudWatch.Alarms;

/// <summary>The account's metric alarms: metadata documents of kind <see cref="AlarmCodec.Kind"/> (<see cref="DocumentCatalog{T}"/>). Thread-safe.</summary>
public sealed class AlarmCatalog(IMetadataStore store, TimeProvider clock, Action<string>? warn)
    : DocumentCatalog<MetricAlarm>(store, clock, AlarmCodec.Kind, warn)
{
    protected override string Noun => "alarm";

    protected override byte[] Encode(MetricAlarm item) => AlarmCodec.Encode(item);

    protected override MetricAlarm Decode(byte[] body, ulong revision) => AlarmCodec.Decode(body, revision);

    protected override ulong RevisionOf(MetricAlarm item) => item.Revision;
}

/// <summary>
/// Alarms' history (DescribeAlarmHistory): a metadata document per alarm name (kind <see cref="AlarmCodec.HistoryKind"/>)
/// holding its items, kept after the alarm is deleted, as on AWS, for <see cref="Retention"/> and at most
/// <see cref="MaxItemsPerAlarm"/> items. Appends are compare-and-sets, so nodes sharing the store lose none. Thread-safe.
/// </summary>
public sealed class AlarmHistory(IMetadataStore store)
{
    /// <summary>How long items are kept (AWS: two weeks).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(14);

    public const int MaxItemsPerAlarm = 1000;

    public void Add(AlarmHistoryItem item)
    {
        for (int attempt = 0; ; attempt++)
        {
            var current = store.ReadDocument(AlarmCodec.HistoryKind, item.AlarmName);
            var items = (current is null ? [] : AlarmCodec.DecodeHistory(current.Body))
                .Where(i => i.TimestampMillis >= item.TimestampMillis - (long)Retention.TotalMilliseconds)
                .Append(item)
                .ToList();
            if (items.Count > MaxItemsPerAlarm)
                items.RemoveRange(0, items.Count - MaxItemsPerAlarm);
            try
            {
                store.WriteDocument(AlarmCodec.HistoryKind, item.AlarmName, AlarmCodec.EncodeHistory(items), current?.Revision ?? 0);
                return;
            }
            catch (DocumentConflictException) when (attempt < 8)
            {
            }
        }
    }

    /// <summary>The items of one alarm (or of every alarm when null), oldest first, younger than the retention.</summary>
    public IReadOnlyList<AlarmHistoryItem> Read(string? alarmName, long nowMillis)
    {
        var documents = alarmName is null
            ? store.ReadDocuments(AlarmCodec.HistoryKind)
            : store.ReadDocument(AlarmCodec.HistoryKind, alarmName) is { } one ? [one] : [];
        long since = nowMillis - (long)Retention.TotalMilliseconds;
        return documents.SelectMany(d => AlarmCodec.DecodeHistory(d.Body))
            .Where(i => i.TimestampMillis >= since)
            .OrderBy(i => i.TimestampMillis)
            .ToList();
    }
}
