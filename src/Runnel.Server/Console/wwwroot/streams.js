// The streams list: mode, open shards, retention and live ingest rate of each, a form to create one, delete buttons.
import { h, field, select, fill, errorText, rate, hidden, keepFocus } from './dom.js';
import { kinesis, cloudwatch, listStreams, pipeline } from './api.js';

const REFRESH_MS = 5000;

/** Records per second each stream took in the last minutes: from the pipeline view, else from CloudWatch's API. */
export async function ingestRates(names, signal) {
  const view = await pipeline(signal);
  if (view) return Object.fromEntries((view.streams || []).map((s) => [s.name, s.incomingRecordsPerSecond]));
  if (names.length === 0) return {};
  const end = Math.floor(Date.now() / 1000) + 60;
  const queries = names.slice(0, 500).map((name, i) => ({
    Id: `s${i}`,
    MetricStat: { Metric: { Namespace: 'AWS/Kinesis', MetricName: 'IncomingRecords', Dimensions: [{ Name: 'StreamName', Value: name }] }, Period: 60, Stat: 'Sum' },
  }));
  const answer = await cloudwatch('GetMetricData', { MetricDataQueries: queries, StartTime: end - 180, EndTime: end }, signal);
  const rates = {};
  const now = Date.now();
  for (const result of answer.MetricDataResults || []) {
    const name = names[Number(result.Id.slice(1))];
    let sum = 0, oldest = now;
    result.Timestamps.forEach((t, i) => {
      if (t * 1000 >= now - 120000) { sum += result.Values[i]; oldest = Math.min(oldest, t * 1000); }
    });
    rates[name] = sum / Math.max(1, (now - oldest) / 1000);
  }
  return rates;
}

export function streamsPage(main, _params, page) {
  const status = h('p', { class: 'error', role: 'alert' });
  const body = h('tbody');
  const table = h('table', { class: 'grid', id: 'streams' },
    h('caption', {}, 'Streams, refreshed every 5 seconds'),
    h('thead', {}, h('tr', {}, ['Name', 'Status', 'Mode', 'Open shards', 'Retention', 'Ingest (records/s)', 'Consumers', hidden('Actions')].map((c) => h('th', { scope: 'col' }, c)))),
    body);
  const rows = new Map();

  async function refresh() {
    const streams = await listStreams(page.signal);
    const details = await Promise.all(streams.map((s) => kinesis('DescribeStreamSummary', { StreamName: s.StreamName }, page.signal)
      .then((d) => d.StreamDescriptionSummary).catch(() => null)));
    let rates = {};
    try { rates = await ingestRates(streams.map((s) => s.StreamName), page.signal); } catch (e) { if (e.name === 'AbortError') throw e; }
    const seen = new Set();
    const listed = new Set(streams.map((s) => s.StreamName));
    keepFocus(body, () => { for (const [name, row] of rows) if (!listed.has(name)) { row.tr.remove(); rows.delete(name); } });
    streams.forEach((summary, i) => {
      const name = summary.StreamName;
      const d = details[i] || {};
      seen.add(name);
      let row = rows.get(name);
      if (!row) {
        const cells = Array.from({ length: 7 }, () => h('td'));
        cells[0].append(h('a', { href: `#/streams/${encodeURIComponent(name)}` }, name));
        cells[5].className = 'num';
        cells[3].className = 'num';
        const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete stream ${name}` }, 'Delete');
        remove.addEventListener('click', () => deleteStream(name));
        row = { tr: h('tr', { 'data-stream': name }, cells, h('td', {}, remove)), cells };
        rows.set(name, row);
      }
      const c = row.cells;
      c[1].textContent = d.StreamStatus || summary.StreamStatus || '';
      c[2].textContent = (d.StreamModeDetails || summary.StreamModeDetails || {}).StreamMode || '';
      c[3].textContent = d.OpenShardCount ?? '';
      c[4].textContent = d.RetentionPeriodHours !== undefined ? `${d.RetentionPeriodHours} h` : '';
      c[5].textContent = rate(rates[name] ?? 0);
      c[6].textContent = d.ConsumerCount ?? '';
      // In ListStreams' order, moving a row only when it is out of place: a moved row loses the focus of its link or button.
      const at = body.querySelectorAll('tr[data-stream]')[seen.size - 1];
      if (at !== row.tr) body.insertBefore(row.tr, at || null);
    });
    if (streams.length === 0) fill(body, h('tr', {}, h('td', { colspan: 8 }, 'No streams yet: create one below.')));
    else body.querySelector('tr:not([data-stream])')?.remove();
    status.textContent = '';
  }

  async function deleteStream(name) {
    if (!confirm(`Delete stream ${name} and all its records?`)) return;
    try {
      await kinesis('DeleteStream', { StreamName: name, EnforceConsumerDeletion: true });
      status.textContent = '';
      await refresh();
    } catch (e) { status.textContent = errorText(e); }
  }

  main.append(h('h1', {}, 'Streams'), status, table, createForm(refresh));
  page.every(REFRESH_MS, () => refresh().catch((e) => { if (e.name !== 'AbortError') status.textContent = errorText(e); }));
}

function createForm(refresh) {
  const name = h('input', { name: 'StreamName', required: true, pattern: '[a-zA-Z0-9_.\\-]{1,128}', autocomplete: 'off' });
  const mode = select('StreamMode', ['PROVISIONED', 'ON_DEMAND'], 'PROVISIONED');
  const shards = h('input', { name: 'ShardCount', type: 'number', min: 1, value: 1 });
  const result = h('p', { role: 'status' });
  const form = h('form', { class: 'panel inline', 'aria-labelledby': 'create-heading' },
    h('h2', { id: 'create-heading' }, 'Create a stream'),
    field('Name', name), field('Capacity mode', mode), field('Shards', shards, 'Provisioned streams only.'),
    h('button', { type: 'submit' }, 'Create stream'), result);
  mode.addEventListener('change', () => { shards.disabled = mode.value === 'ON_DEMAND'; });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const request = { StreamName: name.value.trim(), StreamModeDetails: { StreamMode: mode.value } };
    if (mode.value === 'PROVISIONED') request.ShardCount = Number(shards.value);
    result.className = '';
    try {
      await kinesis('CreateStream', request);
      result.textContent = `Created ${request.StreamName}.`;
      name.value = '';
      await refresh();
    } catch (e) {
      result.className = 'error';
      result.textContent = errorText(e);
    }
  });
  return form;
}
