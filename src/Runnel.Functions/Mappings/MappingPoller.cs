using Runnel.Core.Model;
using Runnel.Functions.Catalog;

namespace Runnel.Functions.Mappings;

/// <summary>
/// Runs one event-source mapping: a <see cref="ShardReader"/> per shard of its stream, all at once (Lambda polls every
/// shard concurrently), a shard born of a reshard only once its parents were read to their end. Each reader gives its
/// shard's records to the function in batches (<see cref="BatchProcessor"/>: retries, bisection, record age, partial
/// failures, on-failure destinations) and moves the shard's position past them. One poller per mapping, on the node
/// that leads; owns the mapping's positions.
/// </summary>
public sealed class MappingPoller(EventSourceMapping mapping, MappingContext context, IFailureDestinations? destinations = null)
{
    private readonly BatchProcessor _batches = new(mapping, context, destinations);

    public EventSourceMapping Mapping => mapping;

    /// <summary>The stream's name as the server holds it, and its ARN (a consumer's ARN names its stream before <c>/consumer/</c>).</summary>
    private (string Name, string Arn) Source()
    {
        string arn = mapping.EventSourceArn;
        int consumer = arn.IndexOf("/consumer/", StringComparison.Ordinal);
        string streamArn = consumer < 0 ? arn : arn[..consumer];
        var parts = streamArn.Split(':', 6);
        string name = parts[5]["stream/".Length..];
        return (StreamNames.Qualify(parts[4], name, context.ServerAccount), streamArn);
    }

    public async Task RunAsync(CancellationToken stop)
    {
        var positions = MappingPositions.Load(context.Metadata, mapping.Uuid);
        _batches.Positions = positions;
        var filter = EventFilter.FromCriteria(mapping.FilterCriteria); // checked when the mapping was made
        var (name, streamArn) = Source();
        var readers = new Dictionary<int, Task<bool>>();
        long streamId = positions.StreamId;
        var readersStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        async Task StopReadersAsync()
        {
            await readersStop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(readers.Values.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            readers.Clear();
            readersStop.Dispose();
            readersStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        }
        try
        {
            string? reported = null;
            while (!stop.IsCancellationRequested)
            {
                if (ShardReader.ConsumerName(mapping.EventSourceArn) is not null && context.SourceProblem?.Invoke(mapping.EventSourceArn) is { } problem)
                {
                    // Read as a consumer that is gone or not ACTIVE: nothing is read until it is (Lambda's mapping fails to read too).
                    if (problem != reported)
                        context.Warn($"The event-source mapping {mapping.Uuid} cannot read as {mapping.EventSourceArn}: {problem}. It waits until the consumer is ACTIVE.");
                    reported = problem;
                    if (readers.Count > 0)
                        await StopReadersAsync().ConfigureAwait(false);
                    streamId = -1; // its readers start again once it can read
                }
                else if (context.FindStream(name) is { Status: not StreamStatus.Deleting } stream)
                {
                    reported = null;
                    if (stream.Id != streamId)
                    {
                        await StopReadersAsync().ConfigureAwait(false); // a new stream under the name (or the first sight of it)
                        if (positions.StreamId != stream.Id)
                            positions.Reset(stream.Id);
                        streamId = stream.Id;
                    }
                    foreach (var shard in stream.Shards.OrderBy(s => s.Index))
                    {
                        if (readers.TryGetValue(shard.Index, out var running))
                        {
                            if (running.IsFaulted)
                            {
                                context.Warn($"The event-source mapping {mapping.Uuid} could not read {shard.ShardId} ({running.Exception!.GetBaseException().Message}); it tries again.");
                                readers.Remove(shard.Index);
                            }
                            else if (running.IsCompleted && !running.Result)
                            {
                                readers.Remove(shard.Index); // the stream changed under it: look again
                            }
                            continue;
                        }
                        if (!ParentsDone(stream, shard, positions, readers))
                            continue;
                        var reader = new ShardReader(mapping, context, _batches, positions, filter, name, stream.Id, shard.Index, streamArn);
                        var token = readersStop.Token;
                        readers[shard.Index] = Task.Run(() => reader.RunAsync(token), CancellationToken.None);
                    }
                }
                await Task.Delay(context.IdleWait, context.Clock, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            context.Metrics?.Function(mapping.FunctionName).MappingStopped(mapping.Uuid);
            await readersStop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(readers.Values.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            readersStop.Dispose();
        }
    }

    /// <summary>Whether the shard's parents (if it has any still held) were given to their end.</summary>
    private static bool ParentsDone(StreamInfo stream, ShardInfo shard, MappingPositions positions, Dictionary<int, Task<bool>> readers)
    {
        foreach (int? parent in new[] { shard.ParentIndex, shard.AdjacentParentIndex })
        {
            if (parent is not { } index || stream.FindShard(index) is not { } held)
                continue;
            bool done = readers.TryGetValue(index, out var reader) ? reader is { IsCompletedSuccessfully: true, Result: true }
                : held.EndOffset is { } end && positions.TryGet(index, out ulong next) && next >= end;
            if (!done)
                return false;
        }
        return true;
    }
}
