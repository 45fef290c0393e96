using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Storage;
using Runnel.Storage.Records;

namespace Runnel.Server.Streams;

/// <summary>Where one record of a put ended up: stored at a shard and offset, or failed with an ErrorCode and ErrorMessage.</summary>
public readonly record struct PutOutcome(ShardInfo? Shard, ulong Offset, long ArrivalMillis, string? ErrorCode, string? ErrorMessage)
{
    public static PutOutcome Stored(ShardInfo shard, ulong offset, long arrivalMillis) => new(shard, offset, arrivalMillis, null, null);

    public static PutOutcome Failed(string code, string message) => new(null, 0, 0, code, message);
}

/// <summary>
/// Writes the records of a put request: routes each to the open shard whose hash key range holds it, admits it
/// against that shard's write budget, frames the records of each shard into one batch, appends the batches of
/// all shards at once, and routes again the records whose shard a reshard closed meanwhile. Knows nothing of
/// the wire: the handler parsed the records and writes the answer. The batches of an encrypted stream name the data
/// key they are sealed under (<paramref name="sealing"/>). Thread-safe (no state of its own).
/// </summary>
public sealed class RecordWriter(StreamCatalog catalog, ShardRegistry shards, StorageHealth health, Func<double> preciseNowMillis,
    Func<StreamInfo, Runnel.Storage.Encryption.LogKey?>? sealing = null)
{
    /// <summary>How many times a write is routed again after a reshard closed its shard under it.</summary>
    private const int MaxRoutingAttempts = 20;

    /// <summary>
    /// Writes every record; the outcomes come in request order. A record over its shard's limit fails with
    /// ProvisionedThroughputExceededException and one whose disk refused it with InternalFailure, each on its
    /// own, as AWS reports them; the others are stored. Throws ResourceNotFoundException when the stream is
    /// not writable (CREATING, DELETING, or deleted while the records were on their way).
    /// </summary>
    public async ValueTask<PutOutcome[]> PutAsync(string streamName, IncomingRecords records, string operation)
    {
        var outcomes = new PutOutcome[records.Count];
        var pending = new List<int>(records.Count);
        for (int i = 0; i < records.Count; i++)
            pending.Add(i);
        for (int attempt = 1; pending.Count > 0; attempt++)
        {
            if (attempt > MaxRoutingAttempts)
                throw KinesisErrors.InternalFailure("the stream's shards kept changing while the records were written; retry");
            if (attempt > 1)
                await Task.Delay(attempt - 1); // a reshard is committing its new shape: give it a moment
            var stream = WritableStream(streamName);
            pending = await AppendRoutedAsync(stream, records, pending, outcomes, operation);
        }
        return outcomes;
    }

    /// <summary>
    /// Writes the one record of <paramref name="records"/> (PutRecord): the same rules as <see cref="PutAsync"/>
    /// on a path without the per-shard grouping a batch needs, since a single put is the request the most of.
    /// </summary>
    public async ValueTask<PutOutcome> PutOneAsync(string streamName, IncomingRecords records, string operation)
    {
        for (int attempt = 1; ; attempt++)
        {
            var stream = WritableStream(streamName);
            var info = Route(stream, records, 0);
            var shard = shards.Get(stream, info);
            if (!shard.Throughput.TryWrite(records.Bytes(0), preciseNowMillis()))
                return PutOutcome.Failed("ProvisionedThroughputExceededException", KinesisErrors.ShardRateExceeded(info.ShardId, stream.Name, catalog.AccountId));
            var data = records.Data(0);
            string? explicitHashKey = records.ExplicitHashKey(0);
            using var batch = new RecordBatch(RecordBatch.FramedSize((int)records.Bytes(0) - data.Length, explicitHashKey?.Length ?? 0, data.Length));
            batch.Add(records.PartitionKey(0), explicitHashKey, data);
            batch.SealWith = sealing?.Invoke(stream);
            try
            {
                var result = await shard.AppendAsync(batch);
                health.Succeeded();
                return PutOutcome.Stored(info, result.FirstOffset, result.ArrivalMillis);
            }
            catch (ObjectDisposedException)
            {
                throw KinesisErrors.StreamNotFound(stream.Name, catalog.AccountId); // deleted meanwhile
            }
            catch (ShardClosedException) when (attempt < MaxRoutingAttempts)
            {
                await Task.Delay(attempt); // a reshard is committing its new shape: route again on it
            }
            catch (ShardClosedException)
            {
                throw KinesisErrors.InternalFailure("the stream's shards kept changing while the record was written; retry");
            }
            catch (Exception e) when (health.Failed(operation, e) is { } fault)
            {
                return DiskFailure(fault);
            }
        }
    }

    /// <summary>The stream to write to: ACTIVE or UPDATING; while CREATING or DELETING AWS says it is not found.</summary>
    public StreamInfo WritableStream(string name)
    {
        var stream = catalog.Get(name);
        if (stream.Status is StreamStatus.Creating or StreamStatus.Deleting)
            throw KinesisErrors.StreamNotFound(stream.Name, catalog.AccountId);
        return stream;
    }

    /// <summary>
    /// The open shard record <paramref name="i"/> goes to: by its hash key, or, for a stream that spreads its records
    /// (AUTO), the least loaded open shard at this moment (each record admitted raises its shard's load, so a
    /// batch is dealt out over the shards).
    /// </summary>
    private ShardInfo Route(StreamInfo stream, IncomingRecords records, int i)
    {
        if (!records.Spread)
            return Route(stream, records.HashKeyOf(i));
        double now = preciseNowMillis();
        ShardInfo? best = null;
        double lowest = double.MaxValue;
        foreach (var shard in stream.Shards)
        {
            if (!shard.IsOpen)
                continue;
            double load = shards.Get(stream, shard).Throughput.WriteLoad(now);
            if (load < lowest)
                (best, lowest) = (shard, load);
        }
        return best ?? throw KinesisErrors.InternalFailure();
    }

    /// <summary>Routing's last step: the open shard whose hash key range holds <paramref name="hashKey"/>.</summary>
    public static ShardInfo Route(StreamInfo stream, UInt128 hashKey)
    {
        foreach (var shard in stream.Shards)
            if (shard.IsOpen && shard.HashKeyRange.Contains(hashKey))
                return shard;
        throw KinesisErrors.InternalFailure(); // the open shards always tile the key space
    }

    /// <summary>
    /// Routes the <paramref name="pending"/> records, appends one batch per shard (all shards at once), and records
    /// where each landed. Returns the records whose shard a reshard closed meanwhile, to be routed again.
    /// </summary>
    private async Task<List<int>> AppendRoutedAsync(StreamInfo stream, IncomingRecords records, List<int> pending, PutOutcome[] outcomes, string operation)
    {
        // Routed first and framed second, so that each shard's batch is rented once at its final size: grown
        // from a few KiB it went through every power of two up to 4 MiB for a 2 MiB request, copying the
        // frames at each step and taking a buffer of every size from the pool.
        var routed = new Dictionary<int, (ShardInfo Shard, List<int> Records, long Bytes)>();
        double now = preciseNowMillis();
        foreach (int i in pending)
        {
            var shard = Route(stream, records, i);
            if (!shards.Get(stream, shard).Throughput.TryWrite(records.Bytes(i), now))
            {
                // Over the shard's limit: this record fails on its own, the others go ahead (as on AWS).
                outcomes[i] = PutOutcome.Failed("ProvisionedThroughputExceededException", KinesisErrors.ShardRateExceeded(shard.ShardId, stream.Name, catalog.AccountId));
                continue;
            }
            if (!routed.TryGetValue(shard.Index, out var target))
                target = (shard, [], 0);
            target.Records.Add(i);
            int dataBytes = records.Data(i).Length;
            target.Bytes += RecordBatch.FramedSize((int)records.Bytes(i) - dataBytes, records.ExplicitHashKey(i)?.Length ?? 0, dataBytes);
            routed[shard.Index] = target;
        }

        var batches = new List<(ShardInfo Shard, RecordBatch Batch, List<int> Records)>(routed.Count);
        var retry = new List<int>();
        try
        {
            foreach (var target in routed.Values)
            {
                var batch = new RecordBatch((int)Math.Min(target.Bytes, int.MaxValue)) { SealWith = sealing?.Invoke(stream) };
                batches.Add((target.Shard, batch, target.Records));
                foreach (int i in target.Records)
                    batch.Add(records.PartitionKey(i), records.ExplicitHashKey(i), records.Data(i));
            }
            var appends = new List<(ShardInfo Shard, List<int> Records, ValueTask<AppendResult> Append)>(batches.Count);
            foreach (var (shard, batch, batchRecords) in batches)
                appends.Add((shard, batchRecords, StartAppend(stream, shard, batch)));
            foreach (var (shard, batchRecords, append) in appends)
            {
                try
                {
                    var result = await append;
                    health.Succeeded();
                    for (int k = 0; k < batchRecords.Count; k++)
                        outcomes[batchRecords[k]] = PutOutcome.Stored(shard, result.FirstOffset + (ulong)k, result.ArrivalMillis);
                }
                catch (ObjectDisposedException)
                {
                    throw KinesisErrors.StreamNotFound(stream.Name, catalog.AccountId); // deleted meanwhile
                }
                catch (ShardClosedException)
                {
                    retry.AddRange(batchRecords);
                }
                catch (Exception e) when (health.Failed(operation, e) is { } fault)
                {
                    // The shard's disk refused the batch and nothing of it was stored (the log cuts a failed write
                    // back): its records fail on their own, as AWS reports an InternalFailure per record, while
                    // those stored on other shards keep their sequence numbers.
                    var failed = DiskFailure(fault);
                    foreach (int i in batchRecords)
                        outcomes[i] = failed;
                }
            }
        }
        finally
        {
            foreach (var target in batches)
                target.Batch.Dispose();
        }
        retry.Sort(); // keep request order within a shard on the next attempt
        return retry;
    }

    /// <summary>A record the disk refused (nothing of it was stored): InternalFailure with the condition, as AWS reports one record.</summary>
    private static PutOutcome DiskFailure(StorageFaultKind fault) =>
        PutOutcome.Failed("InternalFailure", KinesisErrors.InternalFailureMessage(StorageFault.ClientDetail(fault)));

    /// <summary>Starts an append; a failure to open the shard's log is the append's failure, not the whole call's.</summary>
    private ValueTask<AppendResult> StartAppend(StreamInfo stream, ShardInfo shard, RecordBatch batch)
    {
        try
        {
            return shards.Get(stream, shard).AppendAsync(batch);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ValueTask.FromException<AppendResult>(e);
        }
    }
}
