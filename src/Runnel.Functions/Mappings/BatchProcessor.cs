using System.Globalization;
using System.Text.Json;
using Runnel.Core.Model;
using Runnel.Functions.Catalog;
using Runnel.Storage.Records;

namespace Runnel.Functions.Mappings;

/// <summary>
/// What Lambda does with one batch of a shard, in Lambda's order: records older than <c>MaximumRecordAgeInSeconds</c>
/// are given up unseen; the rest go to the function; a function error is tried again after a growing pause, the batch
/// first split in halves when <c>BisectBatchOnFunctionError</c> (a split does not count as a retry), until
/// <c>MaximumRetryAttempts</c> or the records' age limit; with <c>ReportBatchItemFailures</c> a success that names
/// failed items is taken up to the first of them and the rest tried again. What is given up is described to
/// <c>DestinationConfig.OnFailure</c> in Lambda's invocation record. With a tumbling window each invocation carries
/// the window's state and must answer one (<c>{"state": {...}}</c>), else it failed. Returns when every record of the
/// batch is done. Thread-safe: stateless (lanes of one shard call it at once, each with its own batch).
/// </summary>
public sealed class BatchProcessor(EventSourceMapping mapping, MappingContext context, IFailureDestinations? destinations)
{
    /// <summary>Lambda's <c>LastProcessingResult</c> after a successful invocation, and after a failed one.</summary>
    public const string Ok = "OK", FunctionCallFailed = "PROBLEM: Function call failed";

    /// <summary>Where the mapping's processing result is kept; null: nowhere.</summary>
    public MappingPositions? Positions { get; set; }

    /// <summary>The records <c>batch[Start..End)</c> of a read.</summary>
    private readonly record struct Range(int Start, int End)
    {
        public int Count => End - Start;
    }

    /// <param name="batch">Indexes of the read's records in the batch, in order.</param>
    /// <param name="window">The shard's tumbling window, whose state the invocations carry, or null.</param>
    public async Task ProcessAsync(ReadResult read, int[] batch, ShardInfo shard, string streamArn, TumblingWindow? window, CancellationToken stop)
    {
        var pending = new Stack<(Range Range, int Attempts)>();
        pending.Push((new Range(0, batch.Length), 0));
        while (pending.TryPop(out var item))
        {
            stop.ThrowIfCancellationRequested(); // no new invocation once the mapping stops: what is not done is given again
            var (range, attempts) = item;
            // Records too old are given up before the function sees them (Lambda's MaximumRecordAgeInSeconds).
            int young = range.Start;
            if (mapping.MaximumRecordAgeInSeconds >= 0)
            {
                long oldest = context.Clock.GetUtcNow().ToUnixTimeMilliseconds() - mapping.MaximumRecordAgeInSeconds * 1000L;
                while (young < range.End && read.Records[batch[young]].ArrivalMillis < oldest)
                    young++;
                if (young > range.Start)
                    await GiveUpAsync(read, batch, shard, streamArn, new Range(range.Start, young), "RecordAgeExceeded", attempts, null, stop).ConfigureAwait(false);
                range = new Range(young, range.End);
                if (range.Count == 0)
                    continue;
            }
            if (context.Functions.Find(mapping.FunctionName) is not { } function)
            {
                context.Warn($"The event-source mapping {mapping.Uuid} waits for its function {mapping.FunctionArn}, which does not exist.");
                await Task.Delay(context.MaxRetryWait, context.Clock, stop).ConfigureAwait(false);
                pending.Push((range, attempts));
                continue;
            }
            var payload = KinesisEvent.Write(read, batch.AsSpan(range.Start, range.Count), shard, streamArn, function.Role, context.Region, window?.Invocation());
            context.Metrics?.Function(function.Name).Batch(context.Clock.GetUtcNow().ToUnixTimeMilliseconds() - read.Records[batch[range.End - 1]].ArrivalMillis);
            var outcome = await InvokeAsync(function, payload, stop).ConfigureAwait(false);
            bool succeeded = outcome.FunctionError is null && (window is null || window.TakeState(outcome.Payload));
            Positions?.SetResult(succeeded ? Ok : FunctionCallFailed);
            int done = succeeded ? DoneUpTo(read, batch, shard, range, outcome.Payload) : range.Start;
            if (done == range.End)
                continue;
            var failed = new Range(done, range.End);
            attempts++;
            if (!succeeded && mapping.BisectBatchOnFunctionError && failed.Count > 1)
            {
                int middle = failed.Start + failed.Count / 2;
                pending.Push((new Range(middle, failed.End), attempts - 1));
                pending.Push((new Range(failed.Start, middle), attempts - 1));
                continue;
            }
            if (mapping.MaximumRetryAttempts >= 0 && attempts > mapping.MaximumRetryAttempts)
            {
                await GiveUpAsync(read, batch, shard, streamArn, failed, "RetryAttemptsExhausted", attempts, outcome, stop).ConfigureAwait(false);
                continue;
            }
            var wait = TimeSpan.FromMilliseconds(Math.Min(context.MaxRetryWait.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(attempts - 1, 16))));
            await Task.Delay(wait, context.Clock, stop).ConfigureAwait(false);
            pending.Push((failed, attempts));
        }
    }

    /// <summary>
    /// The window's last invocation: no records, <c>isFinalInvokeForWindow</c> (and <c>isWindowTerminatedEarly</c> when
    /// its state outgrew 1 MB), tried until it succeeds, as Lambda holds the shard until it does.
    /// </summary>
    public async Task CloseWindowAsync(TumblingWindow window, ShardInfo shard, string streamArn, bool early, CancellationToken stop)
    {
        for (int attempts = 0; ; attempts++)
        {
            if (attempts > 0)
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(context.MaxRetryWait.TotalMilliseconds, 100 * Math.Pow(2, Math.Min(attempts - 1, 16)))), context.Clock, stop).ConfigureAwait(false);
            if (context.Functions.Find(mapping.FunctionName) is not { } function)
            {
                context.Warn($"The event-source mapping {mapping.Uuid} waits for its function {mapping.FunctionArn}, which does not exist.");
                continue;
            }
            var payload = KinesisEvent.Write(null, [], shard, streamArn, function.Role, context.Region, window.Invocation(final: true, terminatedEarly: early));
            var outcome = await InvokeAsync(function, payload, stop).ConfigureAwait(false);
            if (outcome.FunctionError is null)
                return;
            if (attempts % 10 == 0)
                context.Warn($"The event-source mapping {mapping.Uuid}: the last invocation of {shard.ShardId}'s window from {DateTimeOffset.FromUnixTimeMilliseconds(window.StartMillis):u} failed; "
                    + "the shard waits until it succeeds, as Lambda's does.");
        }
    }

    /// <summary>
    /// One invocation. One under way when the mapping stops (the server shuts down, the mapping is disabled or deleted) is
    /// given <see cref="MappingContext.StopGrace"/> to end, as Lambda lets a batch in flight finish: its answer is taken
    /// and the position stored, so that the batch is not given again after a restart. None starts once it stopped
    /// (a window's final invocation after the last batch's included).
    /// </summary>
    private async Task<Invoke.InvocationOutcome> InvokeAsync(LambdaFunction function, byte[] payload, CancellationToken stop)
    {
        stop.ThrowIfCancellationRequested();
        using var grace = new CancellationTokenSource();
        using (stop.Register(() => grace.CancelAfter(context.StopGrace)))
            return await context.Invoker.InvokeAsync(function, Guid.NewGuid().ToString(), payload, grace.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// How far a successful invocation took the records: all of them, unless <c>ReportBatchItemFailures</c> is on and the
    /// answer names failed items, then up to the first of those (by sequence number); an answer naming an item not in
    /// the batch fails the whole batch, as Lambda takes it.
    /// </summary>
    private int DoneUpTo(ReadResult read, int[] batch, ShardInfo shard, Range range, byte[] answer)
    {
        if (!mapping.FunctionResponseTypes.Contains("ReportBatchItemFailures"))
            return range.End;
        List<string> failures = [];
        try
        {
            using var document = JsonDocument.Parse(answer);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("batchItemFailures", out var items)
                || items.ValueKind != JsonValueKind.Array)
                return range.End; // no failures reported: all succeeded
            foreach (var item in items.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("itemIdentifier", out var id) || id.ValueKind != JsonValueKind.String
                    || string.IsNullOrEmpty(id.GetString()))
                    return range.Start;
                failures.Add(id.GetString()!);
            }
        }
        catch (JsonException)
        {
            return range.End; // an answer that is not JSON reports nothing
        }
        int first = range.End;
        foreach (string failure in failures)
        {
            int at = -1;
            for (int i = range.Start; i < range.End && at < 0; i++)
                if (shard.SequenceOf(read.Records[batch[i]].Offset, read.Records[batch[i]].ArrivalMillis).ToString() == failure)
                    at = i;
            if (at < 0)
                return range.Start; // not an item of this batch: the whole batch failed
            first = Math.Min(first, at);
        }
        return first;
    }

    /// <summary>Drops records the mapping gives up, describing them to the on-failure destination if it has one.</summary>
    private async Task GiveUpAsync(ReadResult read, int[] batch, ShardInfo shard, string streamArn, Range range, string condition, int attempts,
        Invoke.InvocationOutcome? outcome, CancellationToken stop)
    {
        string? destination = mapping.DestinationConfig?["OnFailure"]?["Destination"]?.GetValue<string>();
        context.Warn($"The event-source mapping {mapping.Uuid} gave up {range.Count} records of {shard.ShardId} ({condition}, after {attempts} invocations"
            + (outcome?.FunctionError is null ? ")" : $"; the last failed with {Invoke.InvocationErrors.Summary(outcome.Payload)})")
            + (destination is null ? "; it has no on-failure destination." : $"; described to {destination}."));
        if (destination is null || destinations is null)
            return;
        var first = read.Records[batch[range.Start]];
        var last = read.Records[batch[range.End - 1]];
        byte[] record = Api.FunctionOperations.Write(json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("requestContext");
            json.WriteString("requestId", Guid.NewGuid().ToString());
            json.WriteString("functionArn", mapping.FunctionArn);
            json.WriteString("condition", condition);
            json.WriteNumber("approximateInvokeCount", attempts);
            json.WriteEndObject();
            json.WriteStartObject("responseContext");
            json.WriteNumber("statusCode", 200);
            json.WriteString("executedVersion", "$LATEST");
            if (outcome?.FunctionError is { } error)
                json.WriteString("functionError", error);
            json.WriteEndObject();
            json.WriteString("version", "1.0");
            json.WriteString("timestamp", Timestamp(context.Clock.GetUtcNow().ToUnixTimeMilliseconds()));
            json.WriteStartObject("KinesisBatchInfo");
            json.WriteString("shardId", shard.ShardId);
            json.WriteString("startSequenceNumber", shard.SequenceOf(first.Offset, first.ArrivalMillis).ToString());
            json.WriteString("endSequenceNumber", shard.SequenceOf(last.Offset, last.ArrivalMillis).ToString());
            json.WriteString("approximateArrivalOfFirstRecord", Timestamp(first.ArrivalMillis));
            json.WriteString("approximateArrivalOfLastRecord", Timestamp(last.ArrivalMillis));
            json.WriteNumber("batchSize", range.Count);
            json.WriteString("streamArn", streamArn);
            json.WriteEndObject();
            json.WriteEndObject();
        });
        string account = mapping.FunctionArn.Split(':')[4];
        var (delivered, reason) = await destinations.SendAsync(account, destination, shard.ShardId, record, stop).ConfigureAwait(false);
        if (!delivered)
        {
            context.Metrics?.Function(mapping.FunctionName).DestinationFailed(range.Count);
            context.Warn($"The event-source mapping {mapping.Uuid} could not describe the records it gave up to {destination}: {reason}");
        }
    }

    private static string Timestamp(long millis) =>
        DateTimeOffset.FromUnixTimeMilliseconds(millis).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
