using System.Text.Json;
using Runnel.Core.Metrics;
using Runnel.Core.Model;
using Runnel.Firehose;
using Runnel.Server.Streams;

namespace Runnel.Server.Metrics;

/// <summary>
/// The pipeline as the console's map draws it (<c>GET /console/api/pipeline</c>, docs/console.md): each stream with its
/// write rate, its writers (by client), its readers (registered consumers and clients reading with shard iterators,
/// each with its lag behind the shard's newest record in records and milliseconds, measured when the view is built:
/// <see cref="ReaderLags"/>), and the delivery streams and
/// channels reading it; each delivery stream with its destination, rates, freshness and errors. Rates are per second
/// over the last 10 s, errors over the last minute (<see cref="RateSampler"/>). On a cluster the view is the cluster's:
/// the other nodes' writers, readers and counters, as they published them (<see cref="ClusterActivity"/>), are merged
/// with this node's before the lags are measured. Thread-safe.
/// </summary>
public sealed class PipelineView : IDisposable
{
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10), ErrorWindow = TimeSpan.FromMinutes(1);

    private readonly StreamService _streams;
    private readonly Firehose.Api.FirehoseService _firehose;
    private readonly MetricRegistry _registry;
    private readonly RateSampler _rates;
    private readonly ReaderLags _lags;
    private readonly ClusterActivity? _cluster;

    /// <param name="cluster">The other nodes' activity, on a cluster; null on one node.</param>
    public PipelineView(StreamService streams, Firehose.Api.FirehoseService firehose, ReaderLags lags, TimeProvider clock, ClusterActivity? cluster = null)
    {
        _streams = streams;
        _cluster = cluster;
        _firehose = firehose;
        _lags = lags;
        _registry = streams.Metrics;
        _rates = new RateSampler(Counters, clock, TimeSpan.FromSeconds(5));
    }

    /// <summary>The sampler of the rates (tests note a snapshot by hand).</summary>
    public RateSampler Rates => _rates;

    /// <summary>What shares this node's activity with the other nodes and reads theirs (null on one node).</summary>
    public ClusterActivity? Cluster => _cluster;

    /// <summary>Every counter whose rate the view shows, keyed by the object holding it.</summary>
    private IEnumerable<(object, long)> Counters()
    {
        foreach (var stream in _registry.Streams)
        {
            foreach (var metric in new[] { StreamMetric.IncomingRecords, StreamMetric.IncomingBytes, StreamMetric.GetRecordsRecords, StreamMetric.WriteProvisionedThroughputExceeded, StreamMetric.ReadProvisionedThroughputExceeded, StreamMetric.PutRecordsFailedRecords })
                yield return (stream[metric], stream[metric].Sum);
        }
        foreach (var consumer in _registry.Consumers)
            yield return (consumer[ConsumerMetric.SubscribeToShardEventRecords], consumer[ConsumerMetric.SubscribeToShardEventRecords].Sum);
        foreach (var delivery in _registry.DeliveryStreams)
        {
            foreach (var metric in new[] { FirehoseMetric.IncomingRecords, FirehoseMetric.DataReadFromKinesisStreamRecords, FirehoseMetric.DeliveryRecords })
                yield return (delivery[metric], delivery[metric].Sum);
            yield return (delivery[FirehoseMetric.DeliverySuccess], Failures(delivery));
        }
        foreach (var function in _registry.Functions)
        {
            yield return (function.RecordsRead, function.RecordsRead.Sum);
            yield return (function[FunctionMetric.Errors], function[FunctionMetric.Errors].Sum);
        }
        long now = _streams.Now.ToUnixTimeMilliseconds();
        foreach (var writer in _registry.Activity.Writers(now))
        {
            yield return (writer, writer.Records);
            yield return (writer.FailedRecords, writer.FailedRecords.Value);
        }
        foreach (var reader in _registry.Activity.Readers(now))
        {
            yield return (reader, reader.Records);
            yield return (reader.Errors, reader.Errors.Value);
        }
        if (_cluster is not null)
        {
            foreach (var counter in _cluster.Current.Counters())
                yield return counter;
        }
    }

    /// <summary>Failed delivery attempts: Success's samples that were 0.</summary>
    private static long Failures(DeliveryStreamMetrics delivery) => delivery[FirehoseMetric.DeliverySuccess].Count - delivery[FirehoseMetric.DeliverySuccess].Sum;

    private double Rate(MetricCell cell) => _rates.PerSecond(cell, cell.Sum, RateWindow);

    private double Errors(params MetricCell[] cells) => cells.Sum(c => _rates.Over(c, c.Sum, ErrorWindow));

    /// <summary>Writes the view as it is now (each reader's lag measured now, <see cref="ReaderLags"/>).</summary>
    public async ValueTask WriteAsync(Utf8JsonWriter json, CancellationToken cancellationToken = default)
    {
        // The other nodes' snapshots are read now, so that the view is as fresh as their last publish.
        var remote = _cluster?.Refresh() ?? RemoteActivity.None;
        Write(json, await _lags.MeasureAsync(remote, cancellationToken).ConfigureAwait(false), remote);
    }

    /// <summary>A counter's rate per second summed over this node's cell and the other nodes' mirrors of it.</summary>
    private double Rate(MetricCell cell, IEnumerable<ErrorCount> remote) => Rate(cell) + remote.Sum(c => _rates.PerSecond(c, c.Value, RateWindow));

    private double Errors(IEnumerable<ErrorCount> remote, params MetricCell[] cells) => Errors(cells) + remote.Sum(c => _rates.Over(c, c.Value, ErrorWindow));

    private void Write(Utf8JsonWriter json, IReadOnlyList<ReaderLag> lags, RemoteActivity remote)
    {
        long now = _streams.Now.ToUnixTimeMilliseconds();
        var writers = _registry.Activity.Writers(now).Concat(remote.Writers).ToLookup(w => w.StreamName, StringComparer.Ordinal);
        var readers = lags.ToLookup(r => r.StreamName, StringComparer.Ordinal);
        var remoteStreams = remote.Streams.ToLookup(s => s.Name, StringComparer.Ordinal);
        var remoteDeliveries = remote.Deliveries.ToLookup(d => d.Name, StringComparer.Ordinal);
        // Each reader's failed requests over the last minute, by stream, kind and name (a consumer that was only refused has no lag of its own to carry them).
        var readerErrors = _registry.Activity.Readers(now).Concat(remote.Readers).GroupBy(r => (r.StreamName, r.Kind, Name: r.Label))
            .ToDictionary(g => g.Key, g => g.Sum(r => _rates.Over(r.Errors, r.Errors.Value, ErrorWindow)));
        var deliveries = _firehose.Catalog.All();
        json.WriteStartObject();
        json.WriteNumber("at", now);
        json.WriteStartArray("streams");
        foreach (var stream in _streams.All.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            var metrics = _registry.Stream(stream.Name);
            json.WriteStartObject();
            json.WriteString("name", stream.Name);
            json.WriteString("status", Status(stream.Status));
            json.WriteString("mode", stream.Mode == StreamMode.OnDemand ? "ON_DEMAND" : "PROVISIONED");
            json.WriteNumber("openShards", stream.OpenShards.Count());
            var others = remoteStreams[stream.Name];
            json.WriteNumber("incomingRecordsPerSecond", Round(Rate(metrics[StreamMetric.IncomingRecords], others.Select(o => o.IncomingRecords))));
            json.WriteNumber("incomingBytesPerSecond", Round(Rate(metrics[StreamMetric.IncomingBytes], others.Select(o => o.IncomingBytes))));
            double outgoing = Rate(metrics[StreamMetric.GetRecordsRecords], others.Select(o => o.OutgoingRecords))
                + _registry.Consumers.Where(c => c.StreamName == stream.Name).Sum(c => Rate(c[ConsumerMetric.SubscribeToShardEventRecords]));
            json.WriteNumber("outgoingRecordsPerSecond", Round(outgoing));
            json.WriteNumber("errorsPerMinute", Round(Errors(others.Select(o => o.Errors),
                metrics[StreamMetric.WriteProvisionedThroughputExceeded], metrics[StreamMetric.ReadProvisionedThroughputExceeded], metrics[StreamMetric.PutRecordsFailedRecords])));
            json.WriteStartArray("producers");
            // A producer per client as /metrics labels it (access key and the User-Agent's first product): the
            // entries of User-Agents that differ later are summed; the one that wrote most gives its userAgent.
            foreach (var client in writers[stream.Name].GroupBy(w => w.Label).Select(g => g.OrderByDescending(w => w.Records).ToList())
                .OrderByDescending(c => c.Sum(w => w.Records)).ThenBy(c => c[0].Label, StringComparer.Ordinal))
            {
                var top = client[0];
                json.WriteStartObject();
                json.WriteString("client", top.Label);
                json.WriteString("accessKey", top.Client.AccessKey);
                json.WriteString("userAgent", top.Client.UserAgent);
                json.WriteNumber("recordsPerSecond", Round(client.Sum(w => _rates.PerSecond(w, w.Records, RateWindow))));
                json.WriteNumber("records", client.Sum(w => w.Records));
                json.WriteNumber("failedRecords", client.Sum(w => w.FailedRecords.Value));
                json.WriteNumber("errorsPerMinute", Round(client.Sum(w => _rates.Over(w.FailedRecords, w.FailedRecords.Value, ErrorWindow))));
                json.WriteNumber("lastSeen", client.Max(w => w.LastSeenMillis));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("consumers");
            // A reader per consumer (or client) across the shards it reads: its rate summed, its lag the worst shard's.
            foreach (var group in readers[stream.Name].Where(r => r.Kind is not (ReaderKind.Delivery or ReaderKind.Function)).GroupBy(r => (r.Kind, r.Name)).OrderBy(g => g.Key.Kind).ThenBy(g => g.Key.Name, StringComparer.Ordinal))
            {
                var active = group.SelectMany(r => r.Activities).ToList();
                json.WriteStartObject();
                json.WriteString("kind", ReaderLags.KindLabel(group.Key.Kind));
                json.WriteString("name", group.Key.Name);
                json.WriteString("client", active.Count == 0 ? "" : active.MaxBy(r => r.LastSeenMillis)!.Client.Display);
                json.WriteNumber("recordsPerSecond", Round(active.Sum(r => _rates.PerSecond(r, r.Records, RateWindow))));
                json.WriteNumber("millisBehind", group.Max(r => r.MillisBehind));
                json.WriteNumber("recordsBehind", group.Max(r => r.RecordsBehind));
                json.WriteNumber("errorsPerMinute", Round(readerErrors.GetValueOrDefault((stream.Name, group.Key.Kind, group.Key.Name))));
                json.WriteBoolean("reading", active.Count > 0);
                if (active.Count > 0)
                    json.WriteNumber("lastSeen", active.Max(r => r.LastSeenMillis));
                json.WriteStartArray("shards");
                foreach (var shard in group.GroupBy(r => r.ShardIndex).OrderBy(g => g.Key))
                {
                    json.WriteStartObject();
                    json.WriteString("shardId", ShardId.Format(shard.Key));
                    json.WriteNumber("millisBehind", shard.Max(r => r.MillisBehind));
                    json.WriteNumber("recordsBehind", shard.Max(r => r.RecordsBehind));
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            // Registered consumers with nothing to measure (not active yet, or only closed shards read to their end) are on the map too, idle.
            var measured = readers[stream.Name].Where(r => r.Kind == ReaderKind.Consumer).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var idle in _streams.Consumers.List(stream).Where(c => !measured.Contains(c.Name)).OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                json.WriteStartObject();
                json.WriteString("kind", "consumer");
                json.WriteString("name", idle.Name);
                json.WriteString("client", "");
                json.WriteNumber("recordsPerSecond", 0);
                json.WriteNumber("millisBehind", 0);
                json.WriteNumber("recordsBehind", 0);
                json.WriteNumber("errorsPerMinute", Round(readerErrors.GetValueOrDefault((stream.Name, ReaderKind.Consumer, idle.Name))));
                json.WriteBoolean("reading", false);
                json.WriteStartArray("shards");
                json.WriteEndArray();
                json.WriteEndObject();
            }
            foreach (var delivery in deliveries.Where(d => SourceName(d) == stream.Name))
            {
                // Its lag behind the stream: what it has not read yet, on the shards its delivery (running here or on another node) has reached.
                var m = _registry.DeliveryStream(delivery.Name);
                var elsewhere = remoteDeliveries[delivery.Name];
                var shards = readers[stream.Name].Where(r => r.Kind == ReaderKind.Delivery && r.Name == delivery.Name).OrderBy(r => r.ShardIndex).ToList();
                json.WriteStartObject();
                json.WriteString("kind", "delivery");
                json.WriteString("name", delivery.Name);
                json.WriteString("client", "Firehose");
                json.WriteNumber("recordsPerSecond", Round(Rate(m[FirehoseMetric.DataReadFromKinesisStreamRecords], elsewhere.Select(d => d.ReadRecords))));
                json.WriteNumber("millisBehind", shards.Count == 0 ? 0 : shards.Max(r => r.MillisBehind));
                json.WriteNumber("recordsBehind", shards.Count == 0 ? 0 : shards.Max(r => r.RecordsBehind));
                json.WriteNumber("errorsPerMinute", Round(DeliveryErrors(m, elsewhere)));
                json.WriteBoolean("reading", m.Source is not null || elsewhere.Any(d => d.Source is not null));
                WriteShards(json, shards);
                json.WriteEndObject();
            }
            foreach (var function in readers[stream.Name].Where(r => r.Kind == ReaderKind.Function).GroupBy(r => r.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                // A Lambda function an event-source mapping (running here) gives the stream's records to: its rate, lag and errors.
                var m = _registry.Function(function.Key);
                json.WriteStartObject();
                json.WriteString("kind", "function");
                json.WriteString("name", function.Key);
                json.WriteString("client", "Lambda");
                json.WriteNumber("recordsPerSecond", Round(Rate(m.RecordsRead)));
                json.WriteNumber("millisBehind", function.Max(r => r.MillisBehind));
                json.WriteNumber("recordsBehind", function.Max(r => r.RecordsBehind));
                json.WriteNumber("errorsPerMinute", Round(Errors(m[FunctionMetric.Errors])));
                json.WriteBoolean("reading", true);
                WriteShards(json, function.OrderBy(r => r.ShardIndex));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("deliveryStreams");
        foreach (var delivery in deliveries)
        {
            var m = _registry.DeliveryStream(delivery.Name);
            var elsewhere = remoteDeliveries[delivery.Name];
            json.WriteStartObject();
            json.WriteString("name", delivery.Name);
            json.WriteString("status", delivery.Status);
            if (SourceName(delivery) is { } source)
                json.WriteString("source", source);
            else
                json.WriteNull("source");
            json.WriteString("destination", delivery.DestinationKind);
            json.WriteNumber("incomingRecordsPerSecond", Round(Rate(m[FirehoseMetric.IncomingRecords], elsewhere.Select(d => d.IncomingRecords))
                + Rate(m[FirehoseMetric.DataReadFromKinesisStreamRecords], elsewhere.Select(d => d.ReadRecords))));
            json.WriteNumber("deliveredRecordsPerSecond", Round(Rate(m[FirehoseMetric.DeliveryRecords], elsewhere.Select(d => d.DeliveredRecords))));
            json.WriteNumber("freshnessSeconds", m[FirehoseMetric.DeliveryDataFreshness].Last);
            // Received on every node, delivered by the one running the delivery: the difference of the cluster's sums.
            json.WriteNumber("recordsBehind", elsewhere.Any() ? Math.Max(0, m[FirehoseMetric.IncomingRecords].Sum + m[FirehoseMetric.DataReadFromKinesisStreamRecords].Sum
                - m[FirehoseMetric.DeliveryRecords].Sum + elsewhere.Sum(d => d.IncomingRecords.Value + d.ReadRecords.Value - d.DeliveredRecords.Value)) : m.RecordsNotDelivered);
            json.WriteNumber("errorsPerMinute", Round(DeliveryErrors(m, elsewhere)));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>A reader's lag on each shard it reads (one lag per shard, in order).</summary>
    private static void WriteShards(Utf8JsonWriter json, IEnumerable<ReaderLag> shards)
    {
        json.WriteStartArray("shards");
        foreach (var shard in shards)
        {
            json.WriteStartObject();
            json.WriteString("shardId", ShardId.Format(shard.ShardIndex));
            json.WriteNumber("millisBehind", shard.MillisBehind);
            json.WriteNumber("recordsBehind", shard.RecordsBehind);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    /// <summary>The name of the stream a delivery stream reads, or null for Direct PUT.</summary>
    private static string? SourceName(Firehose.Catalog.DeliveryStream delivery) =>
        delivery.KinesisSource?["KinesisStreamARN"]?.GetValue<string>() is { } arn && arn.LastIndexOf('/') is var slash and >= 0 ? arn[(slash + 1)..] : null;

    private static string Status(StreamStatus status) => status switch
    {
        StreamStatus.Creating => "CREATING",
        StreamStatus.Deleting => "DELETING",
        StreamStatus.Updating => "UPDATING",
        _ => "ACTIVE",
    };

    private static double Round(double value) => Math.Round(value, 2);

    /// <summary>Failed delivery attempts over the last minute, here and on the other nodes.</summary>
    private double DeliveryErrors(DeliveryStreamMetrics m, IEnumerable<RemoteActivity.DeliveryMirror> elsewhere) =>
        _rates.Over(m[FirehoseMetric.DeliverySuccess], Failures(m), ErrorWindow) + elsewhere.Sum(d => _rates.Over(d.FailedAttempts, d.FailedAttempts.Value, ErrorWindow));

    public void Dispose()
    {
        _rates.Dispose();
        _cluster?.Dispose();
    }
}
