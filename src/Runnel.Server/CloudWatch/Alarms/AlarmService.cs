namespace Runnel.Server.CloudWatch.Alarms;

/// <summary>
/// Decides what happens to alarms: PutMetricAlarm's create or replace, SetAlarmState, deletes, and the evaluation
/// each minute (<see cref="Evaluate"/>) over the metrics' history; every state change is written to the history and
/// runs the new state's actions (<see cref="AlarmNotifier"/>), whose outcome is written too. Knows nothing of the
/// wire. Thread-safe.
/// </summary>
public sealed class AlarmService : IAsyncDisposable
{
    /// <summary>Most alarms an account holds (AWS's default quota is far larger; Runnel evaluates each every minute).</summary>
    public const int MaxAlarms = 5000;

    private readonly AlarmCatalog _catalog;
    private readonly AlarmHistory _history;
    private readonly AlarmNotifier _notifier;
    private readonly MetricQueries _queries;
    private readonly TimeProvider _clock;
    private readonly Action<string> _warn;
    private readonly CancellationTokenSource _stopping = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _running = new();

    public AlarmService(AlarmCatalog catalog, AlarmHistory history, AlarmNotifier notifier, MetricQueries queries, TimeProvider clock, string region, string accountId, Action<string> warn)
    {
        _catalog = catalog;
        _history = history;
        _notifier = notifier;
        _queries = queries;
        _clock = clock;
        _warn = warn;
        Region = region;
        AccountId = accountId;
    }

    public string Region { get; }
    public string AccountId { get; }
    public AlarmCatalog Catalog => _catalog;

    private long NowMillis => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    public string ArnOf(string name) => $"arn:aws:cloudwatch:{Region}:{AccountId}:alarm:{name}";

    /// <summary>
    /// PutMetricAlarm: a new alarm starts INSUFFICIENT_DATA; an existing one keeps its state and tags and has its
    /// configuration replaced. <paramref name="alarm"/> carries the configuration only.
    /// </summary>
    public MetricAlarm Put(MetricAlarm alarm)
    {
        long now = NowMillis;
        for (int attempt = 0; ; attempt++)
        {
            if (_catalog.Find(alarm.Name) is { } existing)
            {
                bool changed = false;
                var stored = _catalog.Update(alarm.Name, current =>
                {
                    if (current.SameConfiguration(alarm))
                        return current;
                    changed = true;
                    return alarm with
                    {
                        Tags = current.Tags,
                        ConfigurationUpdatedMillis = now,
                        StateValue = current.StateValue,
                        StateReason = current.StateReason,
                        StateReasonData = current.StateReasonData,
                        StateUpdatedMillis = current.StateUpdatedMillis,
                        StateTransitionedMillis = current.StateTransitionedMillis,
                        Revision = current.Revision,
                    };
                });
                if (stored is null)
                    continue; // deleted meanwhile: create it
                if (changed)
                    _history.Add(new AlarmHistoryItem(alarm.Name, now, "ConfigurationUpdate", $"Alarm \"{alarm.Name}\" updated", AlarmHistoryData.Configuration("Update", "updatedAlarm", stored)));
                return stored;
            }
            if (_catalog.Count >= MaxAlarms)
                throw new CloudWatchException("LimitExceeded", "The quota for alarms for this customer has already been reached.");
            var created = alarm with
            {
                ConfigurationUpdatedMillis = now,
                StateValue = AlarmStates.InsufficientData,
                StateReason = "Unchecked: Initial alarm creation",
                StateReasonData = null,
                StateUpdatedMillis = now,
                StateTransitionedMillis = now,
                Revision = 0,
            };
            if (_catalog.TryCreate(alarm.Name, created))
            {
                var stored = _catalog.Find(alarm.Name) ?? created;
                _history.Add(new AlarmHistoryItem(alarm.Name, now + 1, "ConfigurationUpdate", $"Alarm \"{alarm.Name}\" created", AlarmHistoryData.Configuration("Create", "createdAlarm", stored)));
                return stored;
            }
            if (attempt >= 8)
                throw new InvalidOperationException($"The alarm {alarm.Name} kept changing while it was being stored.");
        }
    }

    public MetricAlarm? Find(string name) => _catalog.Find(name);

    public IReadOnlyList<MetricAlarm> All() => _catalog.All();

    /// <summary>DeleteAlarms: deletes those that exist; the names that did not.</summary>
    public IReadOnlyList<string> Delete(IReadOnlyList<string> names)
    {
        var missing = new List<string>();
        foreach (string name in names.Distinct(StringComparer.Ordinal))
        {
            if (_catalog.Find(name) is null)
                missing.Add(name);
            else
                _catalog.Delete(name);
        }
        return missing;
    }

    /// <summary>SetAlarmState: false when there is no such alarm.</summary>
    public bool SetState(string name, string state, string reason, string? reasonData)
    {
        if (_catalog.Find(name) is null)
            return false;
        Change(name, new AlarmDecision(state, reason, reasonData), forced: true);
        return true;
    }

    /// <summary>DescribeAlarmHistory's items (oldest first).</summary>
    public IReadOnlyList<AlarmHistoryItem> History(string? name) => _history.Read(name, NowMillis);

    /// <summary>
    /// Evaluates every alarm over the periods that end at <paramref name="endSeconds"/> (the end of the minute just
    /// written to the history), as CloudWatch does each minute, and changes the state of those whose datapoints call
    /// for another.
    /// </summary>
    public void Evaluate(long endSeconds)
    {
        foreach (var alarm in _catalog.All())
        {
            try
            {
                int count = AlarmEvaluation.RangeOf(alarm.EvaluationPeriods);
                var starts = Enumerable.Range(0, count).Select(k => endSeconds - ((long)(count - k) * alarm.Period)).ToList();
                var windows = _queries.Windows(alarm.Namespace, alarm.MetricName, alarm.Dimensions, starts[0], alarm.Period, count, alarm.Unit);
                // A period whose percentile cannot be told (samples kept without their distribution) counts as missing.
                var range = starts.Select((start, i) => windows[i] is { } set && CloudWatchOperations.Statistic(set, alarm.StatisticName) is { } value
                    ? new AlarmDatapoint(start, value, set.SampleCount)
                    : (AlarmDatapoint?)null).ToList();
                var decision = AlarmEvaluation.Evaluate(alarm, range, starts, NowMillis);
                if (decision is not null && decision.State != alarm.StateValue)
                    Change(alarm.Name, decision, forced: false);
            }
            catch (Exception e) when (e is IOException or CloudWatchException or InvalidOperationException)
            {
                _warn($"Alarm {alarm.Name} could not be evaluated ({e.Message}); it is tried again next minute.");
            }
        }
    }

    /// <summary>Stores a state (a decision of the evaluation, or SetAlarmState's), writes the history and runs the actions of a new state.</summary>
    private void Change(string name, AlarmDecision decision, bool forced)
    {
        long now = NowMillis;
        string? old = null, oldReason = null;
        var stored = _catalog.Update(name, current =>
        {
            if (!forced && current.StateValue == decision.State)
                return current;
            old = current.StateValue;
            oldReason = current.StateReason;
            return current with
            {
                StateValue = decision.State,
                StateReason = decision.Reason,
                StateReasonData = decision.ReasonData,
                StateUpdatedMillis = now,
                StateTransitionedMillis = current.StateValue == decision.State ? current.StateTransitionedMillis : now,
            };
        });
        if (stored is null || old is null)
            return;
        if (old == decision.State)
            return; // SetAlarmState to the state it is in: no transition, no history item, no action (as on AWS)
        _history.Add(new AlarmHistoryItem(name, now, "StateUpdate", $"Alarm updated from {old} to {decision.State}", AlarmHistoryData.State(old, oldReason ?? "", decision)));
        if (!stored.ActionsEnabled)
            return;
        var transition = new AlarmTransition(stored, old, now);
        foreach (string action in stored.ActionsOf(decision.State))
            Track(RunActionAsync(action, transition));
    }

    private async Task RunActionAsync(string action, AlarmTransition transition)
    {
        string? failure;
        try
        {
            failure = await _notifier.SendAsync(action, transition, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            failure = "Runnel stopped before the notification was delivered";
        }
        string name = transition.Alarm.Name;
        _history.Add(failure is null
            ? new AlarmHistoryItem(name, NowMillis, "Action", $"Successfully executed action {action}", AlarmHistoryData.Action("Succeeded", action, null))
            : new AlarmHistoryItem(name, NowMillis, "Action", $"Failed to execute action {action}. Reason: {failure}", AlarmHistoryData.Action("Failed", action, failure)));
    }

    private void Track(Task task)
    {
        _running[task] = 0;
        task.ContinueWith(t => _running.TryRemove(t, out _), TaskScheduler.Default);
    }

    /// <summary>Notifications still being delivered are given a moment, then cancelled.</summary>
    public async ValueTask DisposeAsync()
    {
        var pending = _running.Keys.ToArray();
        if (pending.Length > 0)
            await Task.WhenAny(Task.WhenAll(pending), Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_running.Keys.ToArray()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
        }
        _stopping.Dispose();
    }
}
