using System.Diagnostics;
using Runnel.Client.Leases;
using Runnel.Client.Models;

namespace Runnel.Client.Processing;

/// <summary>
/// A consumer worker with the KCL's semantics: in a fleet of any number of processes sharing an application name, it
/// divides a stream's shards among the workers by leases in the application's lease table (docs/formats/kcl-leases.md),
/// takes over the shards of workers that stop, rebalances as workers come and go, and runs a record processor per
/// shard it holds, parents before children after a reshard. Leases are renewed every third of the failover time; the
/// table is scanned for leases to take every <see cref="WorkerOptions.LeaseScanInterval"/>; the stream's shards are
/// listed at start and every <see cref="WorkerOptions.ShardSyncInterval"/> to make leases for shards without one.
/// <see cref="RunAsync"/> runs until cancelled, then shuts down gracefully: each processor is asked for a last
/// checkpoint and the leases are let go, so other workers take them at once.
/// </summary>
public sealed class KinesisWorker(KinesisClient kinesis, DynamoDbClient dynamo, IRecordProcessorFactory processors, WorkerOptions options)
{
    private readonly LeaseTable _table = new(dynamo, options.ApplicationName);
    private readonly LeaseTaker _taker = new(options.WorkerId, options.FailoverTime)
    {
        MaxLeasesForWorker = options.MaxLeasesForWorker,
        MaxLeasesToStealAtOneTime = options.MaxLeasesToStealAtOneTime,
    };
    private readonly Dictionary<string, (HeldLease Lease, ShardConsumer? Consumer, Task? Running, CancellationTokenSource Stop)> _held = new(StringComparer.Ordinal);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Random _random = new();
    private string? _consumerArn;

    /// <summary>This worker's id (the owner it writes into the leases it holds).</summary>
    public string WorkerId => options.WorkerId;

    /// <summary>The shards this worker holds leases of now.</summary>
    public IReadOnlyCollection<string> HeldShards
    {
        get
        {
            lock (_held)
                return _held.Keys.ToList();
        }
    }

    /// <summary>Runs the worker until <paramref name="cancellationToken"/> is cancelled, then shuts down gracefully.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await _table.CreateIfMissingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var renewEvery = options.FailoverTime / 3;
        var scanEvery = options.LeaseScanInterval ?? options.FailoverTime;
        TimeSpan nextRenew = TimeSpan.Zero, nextScan = TimeSpan.Zero, nextSync = TimeSpan.Zero;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var now = _clock.Elapsed;
                try
                {
                    if (now >= nextSync)
                    {
                        await SyncShardsAsync(cancellationToken).ConfigureAwait(false);
                        nextSync = now + options.ShardSyncInterval;
                    }
                    if (now >= nextRenew)
                    {
                        await RenewAsync(cancellationToken).ConfigureAwait(false);
                        nextRenew = now + renewEvery;
                    }
                    if (now >= nextScan)
                    {
                        await ScanAsync(cancellationToken).ConfigureAwait(false);
                        nextScan = _clock.Elapsed + scanEvery;
                    }
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
                {
                    options.Log?.Invoke($"{WorkerId}: lease management failed, trying again: {e.Message}");
                }
                var wait = Min(nextRenew, nextScan, nextSync) - _clock.Elapsed;
                if (wait > TimeSpan.Zero)
                    await Task.Delay(Min(wait, TimeSpan.FromMilliseconds(250), TimeSpan.MaxValue), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        await ShutdownAsync().ConfigureAwait(false);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b, TimeSpan c) => TimeSpan.FromTicks(Math.Min(a.Ticks, Math.Min(b.Ticks, c.Ticks)));

    /// <summary>Makes leases for the stream's shards that have none (at start: per the initial position; later: new shards from their start).</summary>
    private async Task SyncShardsAsync(CancellationToken cancellationToken)
    {
        var existing = (await _table.ListAsync(cancellationToken).ConfigureAwait(false)).Select(l => l.LeaseKey).ToHashSet(StringComparer.Ordinal);
        bool initial = existing.Count == 0;
        var shards = new List<Shard>();
        await foreach (var shard in kinesis.ListAllShardsAsync(new ListShardsRequest { StreamName = options.StreamName }, cancellationToken).ConfigureAwait(false))
            shards.Add(shard);
        foreach (var shard in shards.Where(s => !existing.Contains(s.ShardId)))
        {
            bool open = shard.SequenceNumberRange.EndingSequenceNumber is null;
            var start = !initial ? ExtendedSequenceNumber.TrimHorizon : options.InitialPosition switch
            {
                InitialPosition.TrimHorizon => ExtendedSequenceNumber.TrimHorizon,
                InitialPosition.AtTimestamp => ExtendedSequenceNumber.AtTimestamp,
                _ => ExtendedSequenceNumber.Latest,
            };
            if (initial && options.InitialPosition == InitialPosition.Latest && !open)
                continue; // from the tip: closed shards hold nothing newer
            var parents = new[] { shard.ParentShardId, shard.AdjacentParentShardId }.OfType<string>().ToList();
            if (await _table.CreateAsync(new Lease
            {
                LeaseKey = shard.ShardId,
                Checkpoint = start,
                ParentShardIds = parents,
                StartingHashKey = shard.HashKeyRange.StartingHashKey,
                EndingHashKey = shard.HashKeyRange.EndingHashKey,
            }, cancellationToken).ConfigureAwait(false))
                options.Log?.Invoke($"{WorkerId}: made the lease of {shard.ShardId} at {start}");
        }
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        List<(HeldLease Lease, ShardConsumer? Consumer, Task? Running, CancellationTokenSource Stop)> held;
        lock (_held)
            held = _held.Values.ToList();
        await Task.WhenAll(held.Select(async h =>
        {
            if (h.Consumer?.Finished == true || h.Lease.Current.IsFinished)
            {
                await h.Lease.ReleaseAsync(cancellationToken).ConfigureAwait(false);
                Drop(h.Lease.Key, "finished");
                return;
            }
            if (await h.Lease.RenewAsync(cancellationToken).ConfigureAwait(false))
                _taker.Renewed(h.Lease.Current, _clock.Elapsed);
            else
                Drop(h.Lease.Key, "lost");
        })).ConfigureAwait(false);
    }

    private async Task ScanAsync(CancellationToken cancellationToken)
    {
        var leases = await _table.ListAsync(cancellationToken).ConfigureAwait(false);
        var byKey = leases.ToDictionary(l => l.LeaseKey, StringComparer.Ordinal);
        // Leases this worker holds that the table now gives to another (or to nobody): lost.
        foreach (string key in HeldShards)
            if (!byKey.TryGetValue(key, out var stored) || stored.LeaseOwner != WorkerId)
                Drop(key, "lost");
        foreach (var lease in _taker.Choose(leases, _clock.Elapsed, _random))
        {
            if (await _table.TakeAsync(lease, WorkerId, cancellationToken).ConfigureAwait(false) is not { } taken)
                continue; // another worker got there first
            _taker.Renewed(taken, _clock.Elapsed);
            lock (_held)
                _held[taken.LeaseKey] = (new HeldLease(_table, taken), null, null, CancellationTokenSource.CreateLinkedTokenSource(cancellationToken));
            byKey[taken.LeaseKey] = taken;
            options.Log?.Invoke($"{WorkerId}: took the lease of {taken.LeaseKey}" + (lease.LeaseOwner is { } from ? $" from {from}" : ""));
        }
        // Start the held shards whose parents are done (a parent without a lease was never to be read, or was read and removed).
        lock (_held)
        {
            foreach (var (key, h) in _held.ToList())
            {
                if (h.Running is not null)
                    continue;
                bool ready = h.Lease.Current.ParentShardIds.All(p => !byKey.TryGetValue(p, out var parent) || parent.IsFinished);
                if (!ready)
                    continue;
                var consumer = new ShardConsumer(kinesis, _table, h.Lease, processors.Create(key), options,
                    options.Retrieval == RetrievalMode.FanOut ? ConsumerArnAsync : null);
                var running = Task.Run(() => consumer.RunAsync(h.Stop.Token));
                _held[key] = (h.Lease, consumer, running, h.Stop);
                options.Log?.Invoke($"{WorkerId}: processing {key} from {h.Lease.Current.Checkpoint}");
            }
        }
    }

    /// <summary>Stops processing a shard whose lease is lost or finished (the processor hears LeaseLost from its own loop).</summary>
    private void Drop(string key, string why)
    {
        (HeldLease Lease, ShardConsumer? Consumer, Task? Running, CancellationTokenSource Stop) h;
        lock (_held)
        {
            if (!_held.Remove(key, out h))
                return;
        }
        if (why == "lost")
            h.Lease.MarkLost();
        h.Stop.Cancel();
        options.Log?.Invoke($"{WorkerId}: {key} {why}");
    }

    private async Task<string> ConsumerArnAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _consumerArn) is { } known)
            return known;
        string streamArn = (await kinesis.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = options.StreamName }, cancellationToken).ConfigureAwait(false))
            .StreamDescriptionSummary.StreamARN;
        Consumer consumer;
        try
        {
            consumer = (await kinesis.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = streamArn, ConsumerName = options.ApplicationName }, cancellationToken)
                .ConfigureAwait(false)).Consumer;
        }
        catch (KinesisException e) when (e.ErrorCode == "ResourceInUseException")
        {
            consumer = (await kinesis.DescribeStreamConsumerAsync(new StreamConsumerRequest { StreamARN = streamArn, ConsumerName = options.ApplicationName }, cancellationToken)
                .ConfigureAwait(false)).ConsumerDescription;
        }
        while (consumer.ConsumerStatus != "ACTIVE")
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            consumer = (await kinesis.DescribeStreamConsumerAsync(new StreamConsumerRequest { ConsumerARN = consumer.ConsumerARN }, cancellationToken).ConfigureAwait(false))
                .ConsumerDescription;
        }
        Volatile.Write(ref _consumerArn, consumer.ConsumerARN);
        return consumer.ConsumerARN;
    }

    /// <summary>Stops every shard, asks each processor for a last checkpoint, and lets the leases go.</summary>
    private async Task ShutdownAsync()
    {
        List<(HeldLease Lease, ShardConsumer? Consumer, Task? Running, CancellationTokenSource Stop)> held;
        lock (_held)
        {
            held = _held.Values.ToList();
            _held.Clear();
        }
        using var limit = new CancellationTokenSource(options.FailoverTime);
        foreach (var h in held)
        {
            h.Stop.Cancel();
            if (h.Running is not null)
            {
                try
                {
                    await h.Running.ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    if (e is not OperationCanceledException and not LeaseLostException)
                        options.Log?.Invoke($"{WorkerId}: {h.Lease.Key} stopped with an error: {e.Message}");
                }
            }
            try
            {
                if (h.Consumer is { Finished: false } consumer && !h.Lease.IsLost)
                    await consumer.ShutdownRequestedAsync(limit.Token).ConfigureAwait(false);
                await h.Lease.ReleaseAsync(limit.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                options.Log?.Invoke($"{WorkerId}: shutting down {h.Lease.Key}: {e.Message}");
            }
        }
    }
}
