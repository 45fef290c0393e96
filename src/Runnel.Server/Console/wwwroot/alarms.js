// Alarms: CloudWatch's PutMetricAlarm, DescribeAlarms, SetAlarmState, DeleteAlarms and DescribeAlarmHistory, with
// each alarm's state in words (not colour alone) and its history.
import { h, field, select, fill, errorText, time, hidden, keepFocus } from './dom.js';
import { cloudwatch, listStreams } from './api.js';

const REFRESH_MS = 5000;
const METRICS = ['IncomingRecords', 'IncomingBytes', 'GetRecords.Records', 'GetRecords.IteratorAgeMilliseconds',
  'WriteProvisionedThroughputExceeded', 'ReadProvisionedThroughputExceeded', 'PutRecord.Success', 'PutRecords.Success'];
const COMPARISONS = [['GreaterThanThreshold', '>'], ['GreaterThanOrEqualToThreshold', '≥'], ['LessThanThreshold', '<'], ['LessThanOrEqualToThreshold', '≤']];

export async function alarmsPage(main, _params, page) {
  const status = h('p', { class: 'error', role: 'alert', id: 'alarms-error' });
  const body = h('tbody');
  const history = h('section', { 'aria-labelledby': 'history-h', id: 'history' }, h('h2', { id: 'history-h' }, 'History'),
    h('p', {}, 'Choose "History" on an alarm.'));
  const setState = stateForm(() => refresh());
  main.append(h('h1', {}, 'Alarms')); // at once: the router focuses it
  main.append(status,
    h('table', { class: 'grid', id: 'alarms' }, h('caption', {}, 'Metric alarms, refreshed every 5 seconds'),
      h('thead', {}, h('tr', {}, ['Alarm', 'State', 'Condition', 'Reason', 'Since', hidden('Actions')].map((c) => h('th', { scope: 'col' }, c)))), body),
    await createForm(() => refresh(), page.signal), setState.form, history);

  async function showHistory(name) {
    try {
      const answer = await cloudwatch('DescribeAlarmHistory', { AlarmName: name, MaxRecords: 50 }, page.signal);
      fill(history, h('h2', { id: 'history-h' }, `History of ${name}`),
        h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['Time', 'Type', 'Summary'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, (answer.AlarmHistoryItems || []).map((item) => h('tr', {},
            h('td', {}, time(item.Timestamp)), h('td', {}, item.HistoryItemType), h('td', {}, item.HistorySummary))))));
    } catch (e) { fill(history, h('h2', { id: 'history-h' }, 'History'), h('p', { class: 'error', role: 'alert' }, errorText(e))); }
  }

  async function refresh() {
    const answer = await cloudwatch('DescribeAlarms', { MaxRecords: 100 }, page.signal);
    const alarms = answer.MetricAlarms || [];
    setState.update(alarms.map((a) => a.AlarmName));
    keepFocus(body, () => fill(body, alarms.length ? alarms.map((a) => {
      const dims = (a.Dimensions || []).map((d) => `${d.Name}=${d.Value}`).join(', ');
      const op = COMPARISONS.find(([c]) => c === a.ComparisonOperator)?.[1] || a.ComparisonOperator;
      const historyButton = h('button', { type: 'button', 'aria-label': `History of ${a.AlarmName}` }, 'History');
      historyButton.addEventListener('click', () => showHistory(a.AlarmName));
      const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete alarm ${a.AlarmName}` }, 'Delete');
      remove.addEventListener('click', async () => {
        if (!confirm(`Delete alarm ${a.AlarmName}?`)) return;
        try { await cloudwatch('DeleteAlarms', { AlarmNames: [a.AlarmName] }); await refresh(); } catch (e) { status.textContent = errorText(e); }
      });
      return h('tr', { 'data-alarm': a.AlarmName, 'data-state': a.StateValue },
        h('th', { scope: 'row' }, a.AlarmName),
        h('td', {}, h('span', { class: `state state-${String(a.StateValue).toLowerCase()}` }, a.StateValue)),
        h('td', {}, `${a.Statistic ?? a.ExtendedStatistic} of ${a.Namespace} ${a.MetricName}${dims ? ` (${dims})` : ''} ${op} ${a.Threshold} for ${a.DatapointsToAlarm ?? a.EvaluationPeriods} of ${a.EvaluationPeriods} × ${a.Period} s`),
        h('td', {}, a.StateReason || ''), h('td', {}, time(a.StateUpdatedTimestamp)), h('td', {}, historyButton, ' ', remove));
    }) : h('tr', {}, h('td', { colspan: 6 }, 'No alarms.'))));
    status.textContent = '';
  }

  page.every(REFRESH_MS, () => refresh().catch((e) => { if (e.name !== 'AbortError') status.textContent = errorText(e); }));
}

async function createForm(refresh, signal) {
  const streams = await listStreams(signal).catch(() => []);
  const name = h('input', { name: 'AlarmName', required: true, autocomplete: 'off' });
  const stream = select('StreamName', streams.map((x) => x.StreamName));
  const metric = select('MetricName', METRICS, 'IncomingRecords');
  const statistic = select('Statistic', ['Sum', 'Average', 'Maximum', 'Minimum', 'SampleCount', 'p50', 'p90', 'p99'], 'Sum');
  const comparison = select('ComparisonOperator', COMPARISONS.map(([c, sign]) => [c, `${sign} (${c})`]), 'GreaterThanThreshold');
  const threshold = h('input', { name: 'Threshold', type: 'number', step: 'any', value: 100, required: true });
  const period = h('input', { name: 'Period', type: 'number', min: 60, step: 60, value: 60 });
  const periods = h('input', { name: 'EvaluationPeriods', type: 'number', min: 1, value: 1 });
  const missing = select('TreatMissingData', ['missing', 'notBreaching', 'breaching', 'ignore'], 'missing');
  const result = h('p', { role: 'status', id: 'create-alarm-result' });
  const form = h('form', { class: 'panel inline', id: 'create-alarm', 'aria-labelledby': 'create-alarm-h' },
    h('h2', { id: 'create-alarm-h' }, 'Create an alarm'),
    field('Name', name), field('Stream', stream), field('Metric', metric), field('Statistic', statistic),
    field('Condition', comparison), field('Threshold', threshold), field('Period (s)', period), field('Evaluation periods', periods),
    field('Missing data', missing), h('button', { type: 'submit' }, 'Create alarm'), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await cloudwatch('PutMetricAlarm', {
        AlarmName: name.value.trim(), Namespace: 'AWS/Kinesis', MetricName: metric.value,
        ...(statistic.value.startsWith('p') ? { ExtendedStatistic: statistic.value } : { Statistic: statistic.value }),
        Dimensions: [{ Name: 'StreamName', Value: stream.value }], Period: Number(period.value), EvaluationPeriods: Number(periods.value),
        Threshold: Number(threshold.value), ComparisonOperator: comparison.value, TreatMissingData: missing.value,
      });
      result.className = '';
      result.textContent = `Created ${name.value.trim()}.`;
      await refresh().catch(() => {});
    } catch (e) {
      result.className = 'error';
      result.textContent = errorText(e);
    }
  });
  return form;
}

/** Sets an alarm's state by hand (SetAlarmState), to try its actions; the next evaluation sets it back. */
function stateForm(refresh) {
  const alarm = h('select', { name: 'AlarmName' });
  const state = select('StateValue', ['ALARM', 'OK', 'INSUFFICIENT_DATA'], 'ALARM');
  const reason = h('input', { name: 'StateReason', value: 'Set from the console', required: true });
  const result = h('p', { role: 'status', id: 'set-state-result' });
  const form = h('form', { class: 'panel inline', id: 'set-state', 'aria-labelledby': 'set-state-h' },
    h('h2', { id: 'set-state-h' }, 'Set an alarm\'s state'), field('Alarm', alarm), field('State', state), field('Reason', reason),
    h('button', { type: 'submit' }, 'Set state'), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await cloudwatch('SetAlarmState', { AlarmName: alarm.value, StateValue: state.value, StateReason: reason.value });
      result.className = '';
      result.textContent = `${alarm.value} set to ${state.value}.`;
      await refresh().catch(() => {});
    } catch (e) {
      result.className = 'error';
      result.textContent = errorText(e);
    }
  });
  const update = (names) => {
    const chosen = alarm.value;
    if (names.join('\n') === Array.from(alarm.options, (o) => o.value).join('\n')) return;
    fill(alarm, names.map((n) => h('option', { value: n, selected: n === chosen }, n)));
  };
  return { form, update };
}
