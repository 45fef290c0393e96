// One stream: its summary, a put-record form, the last hour's charts, shards with their lineage and rates, consumers
// and their lag, and the forms that change it (shard count, retention, shard-level metrics, delete).
import { h, field, select, fill, errorText, rate, duration, time, bytes, scrollBox, keepFocus } from './dom.js';
import { kinesis, listShards, streamMetrics, pipeline, learnRegion, signedGet } from './api.js';
import { lineChart, lineageGraph } from './charts.js';

const REFRESH_MS = 5000;
const CHARTS = [['IncomingRecords', ' records/min'], ['IncomingBytes', ' bytes/min'], ['GetRecords.Records', ' records/min']];

export async function streamPage(main, [name], page) {
  const status = h('p', { class: 'error', role: 'alert' });
  const summary = h('dl', { class: 'summary' });
  const charts = h('div', { class: 'charts', id: 'charts' });
  const shardsBody = h('tbody');
  const lineage = scrollBox('lineage', 'Shard lineage graph');
  const consumersBody = h('tbody');
  main.append(
    h('nav', { 'aria-label': 'Breadcrumb', class: 'crumbs' }, h('a', { href: '#/streams' }, 'Streams'), ' / ', name),
    h('h1', {}, name), status,
    h('p', {}, h('a', { href: `#/streams/${encodeURIComponent(name)}/data`, class: 'button' }, 'View records')),
    summary, putForm(name),
    h('section', { 'aria-labelledby': 'charts-h' }, h('h2', { id: 'charts-h' }, 'Last hour (per minute)'), charts),
    h('section', { 'aria-labelledby': 'shards-h' }, h('h2', { id: 'shards-h' }, 'Shards'), lineage,
      h('table', { class: 'grid', id: 'shards' },
        h('caption', {}, 'Shards with hash key ranges, parents and rates (rates need shard-level metrics)'),
        h('thead', {}, h('tr', {}, ['Shard', 'State', 'Parent', 'Adjacent parent', 'Hash keys from', 'to', 'In (records/s)', 'Out (records/s)'].map((c) => h('th', { scope: 'col' }, c)))),
        shardsBody)),
    h('section', { 'aria-labelledby': 'consumers-h' }, h('h2', { id: 'consumers-h' }, 'Consumers'),
      h('table', { class: 'grid', id: 'consumers' },
        h('thead', {}, h('tr', {}, ['Consumer', 'Kind', 'Status', 'Records/s', 'Behind (ms)', 'Behind (records)', 'Errors/min', 'Last seen'].map((c) => h('th', { scope: 'col' }, c)))),
        consumersBody)),
    manageForms(name, () => refresh()));

  let description = null;
  const counters = { at: 0, values: new Map() };

  async function refresh() {
    const answer = await kinesis('DescribeStreamSummary', { StreamName: name }, page.signal);
    description = answer.StreamDescriptionSummary;
    learnRegion(description.StreamARN);
    const d = description;
    const monitored = (d.EnhancedMonitoring || []).flatMap((m) => m.ShardLevelMetrics || []);
    fill(summary, ...[
      ['Status', d.StreamStatus], ['Mode', d.StreamModeDetails?.StreamMode], ['Open shards', d.OpenShardCount],
      ['Retention', `${d.RetentionPeriodHours} h`], ['Consumers', d.ConsumerCount], ['Encryption', d.EncryptionType || 'NONE'],
      ['Shard-level metrics', monitored.length ? monitored.join(', ') : 'none'], ['Created', time(d.StreamCreationTimestamp)], ['ARN', d.StreamARN],
    ].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v ?? ''))));
    const [shards, series, view, rates] = await Promise.all([
      listShards(name, page.signal),
      streamMetrics(name, CHARTS.map(([m]) => m), 60, page.signal).catch((e) => e),
      pipeline(page.signal),
      shardRates(name, counters, page.signal),
    ]);
    drawShards(shards, rates);
    drawCharts(series);
    await drawConsumers(view);
  }

  function drawShards(shards, rates) {
    fill(lineage, lineageGraph(shards));
    fill(shardsBody, shards.map((shard) => {
      const closed = !!shard.SequenceNumberRange?.EndingSequenceNumber;
      const r = rates.get(shard.ShardId) || {};
      return h('tr', {},
        h('th', { scope: 'row' }, shard.ShardId), h('td', {}, closed ? 'closed' : 'open'),
        h('td', {}, shard.ParentShardId || '–'), h('td', {}, shard.AdjacentParentShardId || '–'),
        h('td', { class: 'key' }, shard.HashKeyRange.StartingHashKey), h('td', { class: 'key' }, shard.HashKeyRange.EndingHashKey),
        h('td', { class: 'num' }, r.incoming === undefined ? '–' : rate(r.incoming)), h('td', { class: 'num' }, r.outgoing === undefined ? '–' : rate(r.outgoing)));
    }));
  }

  function drawCharts(series) {
    if (series instanceof Error) { fill(charts, h('p', { class: 'error' }, `Charts unavailable: ${errorText(series)}`)); return; }
    const open = new Set(Array.from(charts.querySelectorAll('details[open]'), (d) => d.dataset.metric));
    keepFocus(charts, () => fill(charts, CHARTS.map(([metric, unit]) => h('figure', { class: 'chart-box', 'data-metric': metric },
      h('figcaption', {}, metric === 'IncomingBytes' ? `${metric} (latest ${bytes(series[metric].at(-1)?.v ?? 0)}/min)` : metric),
      lineChart(series[metric], { title: metric, unit }), chartValues(metric, unit, series[metric], open.has(metric))))));
  }

  async function drawConsumers(view) {
    const rows = [];
    const live = view && (view.streams || []).find((s) => s.name === name);
    const registered = description ? await kinesis('ListStreamConsumers', { StreamARN: description.StreamARN }, page.signal).catch(() => ({ Consumers: [] })) : { Consumers: [] };
    const known = new Set();
    for (const c of live?.consumers || []) {
      known.add(c.name);
      const lagging = (c.millisBehind ?? 0) > 60000 || (c.errorsPerMinute ?? 0) > 0;
      rows.push(h('tr', { class: lagging ? 'bad' : '' }, h('th', { scope: 'row' }, c.name, lagging ? ' (lagging or failing)' : ''), h('td', {}, c.kind),
        h('td', {}, ''), h('td', { class: 'num' }, rate(c.recordsPerSecond)), h('td', { class: 'num' }, c.millisBehind ?? '–'),
        h('td', { class: 'num' }, c.recordsBehind ?? '–'), h('td', { class: 'num' }, c.errorsPerMinute ?? '–'), h('td', {}, time(c.lastSeen))));
    }
    for (const c of registered.Consumers || []) {
      if (known.has(c.ConsumerName)) continue;
      rows.push(h('tr', {}, h('th', { scope: 'row' }, c.ConsumerName), h('td', {}, 'consumer'), h('td', {}, c.ConsumerStatus),
        h('td', { class: 'num' }, '–'), h('td', { class: 'num' }, '–'), h('td', { class: 'num' }, '–'), h('td', { class: 'num' }, '–'),
        h('td', {}, view ? 'not reading' : 'lag unknown (no pipeline view on this server)')));
    }
    fill(consumersBody, rows.length ? rows : h('tr', {}, h('td', { colspan: 8 }, 'No consumers seen.')));
  }

  page.every(REFRESH_MS, () => refresh().then(() => { status.textContent = ''; })
    .catch((e) => { if (e.name !== 'AbortError') status.textContent = errorText(e); }));
}

/** A chart's points as a table, folded away under it: every minute's value for keyboard and screen-reader users,
 * who cannot hover over the points. Stays open across refreshes once opened. */
function chartValues(metric, unit, points, open) {
  const shown = points.filter((p) => p.t >= Date.now() - 61 * 60000);
  return h('details', { class: 'values', 'data-metric': metric, open },
    h('summary', { id: `values-${metric}` }, 'Values per minute'),
    shown.length
      ? h('table', { class: 'grid' }, h('caption', {}, `${metric}, last hour`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Minute'), h('th', { scope: 'col', class: 'num' }, unit.trim()))),
        h('tbody', {}, shown.map((p) => h('tr', {}, h('td', {}, time(p.t).slice(11, 16)), h('td', { class: 'num' }, rate(p.v))))))
      : h('p', {}, 'No data in the last hour.'));
}

/** Per-shard records/s from the shard-level counters at GET /metrics (present for streams with enhanced monitoring). */
async function shardRates(stream, counters, signal) {
  const rates = new Map();
  let text;
  try {
    const response = await signedGet('/metrics', 'text/plain', signal);
    if (!response.ok) return rates;
    text = await response.text();
  } catch (e) { if (e.name === 'AbortError') throw e; return rates; }
  const now = Date.now();
  const values = new Map();
  const line = /^kinesis_shard_(incoming|outgoing)_records(?!_samples)[a-z_]*\{([^}]*)\} ([0-9.eE+-]+)/gm;
  for (const match of text.matchAll(line)) {
    const labels = Object.fromEntries([...match[2].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.StreamName !== stream) continue;
    values.set(`${labels.ShardId}|${match[1]}`, Number(match[3]));
  }
  const seconds = (now - counters.at) / 1000;
  for (const [key, value] of values) {
    const [shard, direction] = key.split('|');
    const before = counters.values.get(key);
    if (before === undefined || seconds <= 0) continue;
    const entry = rates.get(shard) || {};
    entry[direction] = Math.max(0, value - before) / seconds;
    rates.set(shard, entry);
  }
  counters.at = now;
  counters.values = values;
  return rates;
}

function putForm(name) {
  const key = h('input', { name: 'PartitionKey', required: true, value: 'key-1', autocomplete: 'off' });
  const data = h('textarea', { name: 'Data', rows: 3, required: true }, '{"hello": "world"}');
  const result = h('p', { role: 'status' });
  const form = h('form', { class: 'panel', id: 'put-record', 'aria-labelledby': 'put-h' },
    h('h2', { id: 'put-h' }, 'Put a record'), field('Partition key', key), field('Data (text, sent as UTF-8)', data),
    h('button', { type: 'submit' }, 'Put record'), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const utf8 = new TextEncoder().encode(data.value);
    let binary = '';
    utf8.forEach((b) => { binary += String.fromCharCode(b); });
    try {
      const answer = await kinesis('PutRecord', { StreamName: name, PartitionKey: key.value, Data: btoa(binary) });
      result.className = '';
      result.textContent = `Stored in ${answer.ShardId} at sequence number ${answer.SequenceNumber}.`;
    } catch (e) {
      result.className = 'error';
      result.textContent = errorText(e);
    }
  });
  return form;
}

function manageForms(name, refresh) {
  const result = h('p', { role: 'status' });
  const run = async (operation, body, done) => {
    try {
      await kinesis(operation, body);
      result.className = '';
      result.textContent = done;
      await refresh().catch(() => {});
      return true;
    } catch (e) {
      result.className = 'error';
      result.textContent = errorText(e);
      return false;
    }
  };
  const form = (title, controls, label, submit) => {
    const f = h('form', { class: 'inline' }, h('h3', {}, title), controls, h('button', { type: 'submit', class: title === 'Delete' ? 'danger' : undefined }, label));
    f.addEventListener('submit', (event) => { event.preventDefault(); submit(); });
    return f;
  };
  const count = h('input', { type: 'number', min: 1, value: 2, name: 'TargetShardCount' });
  const hours = h('input', { type: 'number', min: 24, max: 8760, value: 48, name: 'RetentionPeriodHours' });
  const metrics = select('ShardLevelMetrics', [['ALL', 'all'], ['IncomingRecords', 'IncomingRecords and OutgoingRecords']], 'IncomingRecords');
  return h('section', { class: 'panel', 'aria-labelledby': 'manage-h' }, h('h2', { id: 'manage-h' }, 'Change the stream'),
    form('Reshard', field('Target shard count', count), 'Update shard count',
      () => run('UpdateShardCount', { StreamName: name, TargetShardCount: Number(count.value), ScalingType: 'UNIFORM_SCALING' }, `Resharding to ${count.value} shards.`)),
    form('Retention', field('Retention (hours)', hours), 'Change retention', async () => {
      const current = (await kinesis('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.RetentionPeriodHours;
      const target = Number(hours.value);
      const operation = target >= current ? 'IncreaseStreamRetentionPeriod' : 'DecreaseStreamRetentionPeriod';
      await run(operation, { StreamName: name, RetentionPeriodHours: target }, `Retention is now ${target} hours.`);
    }),
    form('Shard-level metrics', field('Metrics', metrics), 'Enable', () => run('EnableEnhancedMonitoring',
      { StreamName: name, ShardLevelMetrics: metrics.value === 'ALL' ? ['ALL'] : ['IncomingRecords', 'OutgoingRecords'] }, 'Shard-level metrics enabled.')),
    form('Delete', h('p', {}, 'Deletes the stream and every record in it.'), 'Delete stream', async () => {
      if (!confirm(`Delete stream ${name} and all its records?`)) return;
      if (await run('DeleteStream', { StreamName: name, EnforceConsumerDeletion: true }, 'Deleting.')) location.hash = '#/streams';
    }),
    result);
}
