using Runnel.Storage;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// Delivers one delivery stream or channel, as one version of its configuration: a loop around <see cref="BufferedDelivery"/> that
/// pumps when records are put (here or, on a cluster, through another node; a Kinesis source is polled every
/// <see cref="StreamPoll"/>) and when a buffer or a retry falls due, and trims a DirectPut log below what was delivered. Stopping it loses nothing:
/// what it buffered is still in the log above the stored position, and the next worker reads it again.
/// </summary>
internal sealed class DeliveryWorker : IAsyncDisposable
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(1), TrimEvery = TimeSpan.FromSeconds(30);

    /// <summary>How often a Kinesis stream source is looked at for new records.</summary>
    public static readonly TimeSpan StreamPoll = TimeSpan.FromMilliseconds(200);

    /// <summary>How long Firehose keeps records its destination has not taken: after that they are dropped.</summary>
    public static readonly TimeSpan KeptUndelivered = TimeSpan.FromHours(24);

    private readonly BufferedDelivery _delivery;
    private readonly DeliveryPosition _position;
    private readonly IShardLog? _log;
    private readonly TimeSpan _longestWait;
    private readonly TimeProvider _clock;
    private readonly Action<string> _warn;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _nextTrimMillis;

    /// <param name="label">What the operator's warnings call it ("Firehose NAME", "Channel NAME").</param>
    /// <param name="configuration">What of its configuration this worker delivers: another value needs another worker.</param>
    /// <param name="log">A DirectPut stream's log (its appends wake the worker; it is trimmed); null for a Kinesis source, polled.</param>
    public DeliveryWorker(string label, string configuration, BufferedDelivery delivery, DeliveryPosition position, IShardLog? log, TimeProvider clock, Action<string> warn)
    {
        _longestWait = log is null ? StreamPoll : LongestWait;
        Label = label;
        Configuration = configuration;
        _delivery = delivery;
        _position = position;
        _log = log;
        _clock = clock;
        _warn = warn;
        if (_log is not null)
            _log.AppendedElsewhere += Wake;
        _loop = Task.Run(RunAsync);
    }

    public string Label { get; }

    /// <summary>What of its configuration this worker delivers (a delivery stream's version and log, a channel's freshness).</summary>
    public string Configuration { get; }

    /// <summary>Records were appended: pump now rather than at the next due time.</summary>
    public void Wake()
    {
        Wakeup.Set(_wake);
    }

    private async Task RunAsync()
    {
        var cancel = _stop.Token;
        string? lastProblem = null, lastStepProblem = null;
        while (!cancel.IsCancellationRequested)
        {
            long now = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            TimeSpan wait = _longestWait;
            try
            {
                long? due = await _delivery.PumpAsync(now, cancel).ConfigureAwait(false);
                if (due is { } at)
                    wait = TimeSpan.FromMilliseconds(Math.Clamp(at - now, 0, _longestWait.TotalMilliseconds));
                string? problem = _delivery.LastFailure?.Message;
                if (problem is not null && problem != lastProblem)
                    _warn($"{Label}: delivery failed ({problem}); the batch is retried with backoff and nothing is lost meanwhile.");
                lastProblem = problem;
                if (_log is not null && now >= _nextTrimMillis)
                {
                    await TrimAsync(now, cancel).ConfigureAwait(false);
                    _nextTrimMillis = now + (long)TrimEvery.TotalMilliseconds;
                }
                lastStepProblem = null;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                return;
            }
            catch (ObjectDisposedException) when (_log is not null)
            {
                // The log was closed under the step: its stream was deleted (here or on another node) or the server is
                // stopping, and the engine stops this worker next. Nothing to warn of.
                wait = LongestWait;
            }
            catch (Exception e)
            {
                // The position is stored only after a delivery: whatever failed here is read and delivered again. The
                // same failure, step after step (a Kinesis source deleted under it), is warned of once.
                string stepProblem = $"{e.GetType().Name}: {e.Message}";
                if (stepProblem != lastStepProblem)
                    _warn($"{Label}: the delivery step failed ({stepProblem}); it runs again every second until it succeeds.");
                lastStepProblem = stepProblem;
                wait = LongestWait;
            }
            try
            {
                await _wake.WaitAsync(wait, cancel).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Frees the log's segments below what was delivered, and below 24 hours ago whatever was delivered.</summary>
    private async Task TrimAsync(long now, CancellationToken cancel)
    {
        if (_log is null)
            return;
        ulong delivered = _position.Of(0);
        long cutoff = now - (long)KeptUndelivered.TotalMilliseconds;
        if (delivered > 0)
        {
            using var last = await _log.ReadAsync(delivered - 1, 1, long.MaxValue, 0, cancel).ConfigureAwait(false);
            if (last.Count > 0 && last.Records[0].Offset == delivered - 1)
                cutoff = Math.Max(cutoff, last.Records[0].ArrivalMillis);
        }
        if (cutoff > 0)
            _log.EnforceRetention(cutoff);
    }

    public async ValueTask DisposeAsync()
    {
        if (_log is not null)
            _log.AppendedElsewhere -= Wake;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
    }
}
