using Runnel.Client.Aggregation;
using Runnel.Client.Models;

namespace Runnel.Client.Producer;

/// <summary>
/// The pipeline's sending half: packs the entries waiting in the lanes into PutRecords calls within
/// <see cref="PutRecordsLimits.Default"/> and <see cref="ProducerOptions.MaxConcurrentRequests"/>, a lane at a time
/// per call and shard by shard so that a shard held back by its budget or a backoff never holds back the others; then
/// reads the answers: records stored are completed, failed entries go back to the front of their lanes after a
/// backoff, and errors the service will not take back fail their records.
/// </summary>
internal sealed partial class ProducerPipeline
{
    private int _inFlight;
    private int _laneCursor; // where the next call starts looking, so that every shard gets its turn first
    private TimeSpan? _limiterWake;

    /// <summary>Starts calls while there is room for one and something to put.</summary>
    private void Dispatch()
    {
        while (_inFlight < _options.MaxConcurrentRequests)
        {
            var batcher = new PutRecordsBatcher<ProducerEntry>(PutRecordsLimits.Default, e => e.RequestBytes);
            var taken = new List<ProducerEntry>();
            long now = _clock.GetTimestamp();
            bool full = false;
            var lanes = _lanes.Values.ToList();
            for (int i = 0; i < lanes.Count && !full; i++)
            {
                var lane = lanes[(i + _laneCursor) % lanes.Count];
                if (lane.Count == 0 || lane.InFlight || lane.NotBefore > now)
                    continue;
                var took = lane.TakeForRequest(entry =>
                {
                    long bytes = entry.RequestBytes;
                    if (lane.Limiter is { } limiter && limiter.WaitFor(bytes, 1) is var wait && wait > TimeSpan.Zero)
                    {
                        _limiterWake = Min(_limiterWake, wait);
                        return false;
                    }
                    if (!batcher.TryAdd(entry))
                    {
                        full = true;
                        return false;
                    }
                    lane.Limiter?.Take(bytes, 1);
                    return true;
                });
                if (took.Count == 0)
                    continue;
                lane.InFlight = true;
                taken.AddRange(took);
            }
            if (taken.Count == 0)
                return;
            _laneCursor++;
            Send(taken);
        }
    }

    private void Send(List<ProducerEntry> entries)
    {
        _inFlight++;
        foreach (var entry in entries)
        {
            entry.Attempts++;
            foreach (var record in entry.Records)
                record.Attempts++;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                var records = new List<PutRecordsRequestEntry>(entries.Count);
                foreach (var entry in entries)
                {
                    var encoded = entry.Encoded(); // an aggregate's protobuf and MD5, here rather than on the loop
                    records.Add(new PutRecordsRequestEntry { PartitionKey = encoded.PartitionKey, ExplicitHashKey = encoded.ExplicitHashKey, Data = encoded.Data });
                }
                var request = new PutRecordsRequest { StreamName = _options.StreamName, Records = records };
                Post(new RequestDone(entries, await _client.PutRecordsAsync(request).ConfigureAwait(false), null));
            }
            catch (Exception e)
            {
                Post(new RequestDone(entries, null, e));
            }
        });
    }

    private void Completed(RequestDone done)
    {
        _inFlight--;
        foreach (var entry in done.Entries)
            Lane(entry.Lane).InFlight = false;
        if (done.Error is not null)
        {
            if (done.Error is AwsServiceException { IsRetryable: true })
                Retry(done.Entries, done.Error);
            else
                foreach (var entry in done.Entries)
                {
                    foreach (var record in entry.Records)
                        Fail(record, Failure(done.Error, record.Attempts));
                    entry.Release();
                }
            return;
        }
        var answers = done.Response!.Records;
        var failed = new List<ProducerEntry>();
        string? firstError = null;
        for (int i = 0; i < done.Entries.Count; i++)
        {
            var entry = done.Entries[i];
            var result = i < answers.Count ? answers[i] : new PutRecordsResultEntry(null, null, "InternalFailure", "The answer had fewer records than the request.");
            if (result.Succeeded)
            {
                Lane(entry.Lane).FailuresInARow = 0;
                _metrics.RecordsPut(1);
                Landed(entry, result);
            }
            else
            {
                failed.Add(entry);
                firstError ??= $"{result.ErrorCode}: {result.ErrorMessage}";
            }
        }
        if (failed.Count > 0)
            Retry(failed, new KinesisException(failed.Count == 1 ? "RecordFailed" : "RecordsFailed", firstError!, System.Net.HttpStatusCode.OK, null, isRetryable: true));
    }

    /// <summary>
    /// A stored entry: its records are durable, where it landed. An aggregate that landed on another shard than
    /// predicted (the map went stale by a reshard) holds for that shard only the records whose hash keys it takes, as a
    /// consumer's deaggregator reads it with the shard's range; the others are put again, to their shard.
    /// </summary>
    private void Landed(ProducerEntry entry, PutRecordsResultEntry result)
    {
        string shardId = result.ShardId!;
        if (entry.Records.Length == 1 || shardId == entry.Lane)
        {
            long bytes = 0;
            long now = _clock.GetTimestamp();
            DataSlabs.Slab? slab = null; // records accepted one after another share a slab: released together
            int inSlab = 0;
            for (int i = 0; i < entry.Records.Length; i++)
            {
                var record = entry.Records[i];
                _metrics.Latency(_clock, record.AcceptedAt, now);
                record.Completion?.TrySetResult(new PutResult(shardId, result.SequenceNumber!, i, record.Attempts));
                bytes += record.BufferedBytes;
                var itsSlab = record.TakeSlab();
                if (itsSlab != slab)
                {
                    slab?.Release(inSlab);
                    (slab, inSlab) = (itsSlab, 0);
                }
                inSlab++;
            }
            slab?.Release(inSlab);
            _metrics.UserRecordsPut(entry.Records.Length);
            _gate.Exit(entry.Records.Length, bytes); // once per entry: the gate's lock is shared with every caller
            entry.Release();
            return;
        }
        RefreshSoon();
        if (_topology is null || !_topology.All.TryGetValue(shardId, out var range))
        {
            _awaitingRanges.Add((entry, result));
            return;
        }
        for (int i = 0; i < entry.Records.Length; i++)
        {
            var record = entry.Records[i];
            if (range.Contains(_hashKeys.Of(record)))
            {
                Complete(record, shardId, result.SequenceNumber!, i);
                _gate.Exit(1, record.BufferedBytes);
            }
            else
                Accept(record);
        }
        entry.Release();
    }

    /// <summary>Entries that failed go back to the front of their lanes, in order, after the lane's backoff; those past their TTL fail.</summary>
    private void Retry(List<ProducerEntry> entries, Exception error)
    {
        _metrics.Retries(entries.Count);
        long now = _clock.GetTimestamp();
        long ttl = (long)(_options.RecordTtl.TotalSeconds * _clock.TimestampFrequency);
        foreach (var group in entries.GroupBy(e => e.Lane))
        {
            var lane = Lane(group.Key);
            lane.FailuresInARow++;
            lane.NotBefore = now + (long)(Backoff(lane.FailuresInARow).TotalSeconds * _clock.TimestampFrequency);
            var kept = new List<ProducerEntry>();
            foreach (var entry in group)
            {
                if (now - entry.OldestAcceptedAt < ttl)
                {
                    kept.Add(entry);
                    continue;
                }
                var expired = new ProducerRecordException(ProducerRecordException.ExpiredErrorCode, $"The record was not durable within its TTL of {_options.RecordTtl}; last error: {error.Message}", entry.Attempts, error);
                foreach (var record in entry.Records)
                    Fail(record, expired);
                entry.Release();
            }
            lane.RequeueFront(kept);
        }
    }

    /// <summary>Exponential from <see cref="ProducerOptions.MinRetryDelay"/>, capped, with jitter down to half so that shards do not retry in step.</summary>
    private TimeSpan Backoff(int failuresInARow)
    {
        double ceiling = Math.Min(_options.MaxRetryDelay.TotalMilliseconds, _options.MinRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failuresInARow - 1, 30)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + Random.Shared.NextDouble() / 2));
    }

    /// <summary>A record made durable; the caller gives its room in the buffer back.</summary>
    private void Complete(PendingRecord record, string shardId, string sequenceNumber, int subSequenceNumber)
    {
        _metrics.Latency(_clock, record.AcceptedAt, _clock.GetTimestamp());
        _metrics.UserRecordsPut(1);
        record.Completion?.TrySetResult(new PutResult(shardId, sequenceNumber, subSequenceNumber, record.Attempts));
        record.ReleaseData();
    }

    private void Fail(PendingRecord record, ProducerRecordException error)
    {
        _gate.Exit(1, record.BufferedBytes);
        _metrics.Failures(1);
        _reportFailure(record, error);
        record.Completion?.TrySetException(error);
        record.ReleaseData();
    }

    private static ProducerRecordException Failure(Exception error, int attempts) =>
        error as ProducerRecordException
        ?? new ProducerRecordException(error is AwsServiceException aws ? aws.ErrorCode : error.GetType().Name, error.Message, attempts, error);
}
