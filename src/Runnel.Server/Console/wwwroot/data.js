// The data viewer: a shard's records from TRIM_HORIZON, LATEST, a sequence number or a time, shown as text, pretty
// JSON or hex, with partition key, sequence number and arrival time; "Follow" keeps reading with NextShardIterator.
import { h, field, select, fill, errorText, time } from './dom.js';
import { kinesis, listShards } from './api.js';

const MAX_ROWS = 500; // the table keeps the newest this many records
const FOLLOW_MS = 1000; // within AWS's 5 GetRecords calls per second per shard, shared with other readers
const PAGE = 100;

const decoder = new TextDecoder('utf-8', { fatal: false });

function decode(base64) {
  const binary = atob(base64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** A record's data in the chosen format. */
export function render(bytes, format) {
  if (format === 'hex') {
    const lines = [];
    for (let offset = 0; offset < bytes.length; offset += 16) {
      const chunk = bytes.subarray(offset, offset + 16);
      const hexPart = Array.from(chunk, (b) => b.toString(16).padStart(2, '0')).join(' ');
      const ascii = Array.from(chunk, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
      lines.push(`${offset.toString(16).padStart(8, '0')}  ${hexPart.padEnd(47)}  ${ascii}`);
    }
    return lines.join('\n') || '(empty)';
  }
  const text = decoder.decode(bytes);
  if (format === 'json') {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return `(not JSON) ${text}`; }
  }
  return text;
}

export async function dataPage(main, [name], page) {
  const status = h('p', { class: 'error', role: 'alert' });
  const shard = h('select', { name: 'ShardId' });
  const start = select('ShardIteratorType', ['TRIM_HORIZON', 'LATEST', 'AT_SEQUENCE_NUMBER', 'AFTER_SEQUENCE_NUMBER', 'AT_TIMESTAMP'], 'TRIM_HORIZON');
  const sequence = h('input', { name: 'StartingSequenceNumber', autocomplete: 'off', inputmode: 'numeric' });
  const when = h('input', { name: 'Timestamp', type: 'datetime-local', step: 1 });
  const format = select('format', [['text', 'Text'], ['json', 'Pretty JSON'], ['hex', 'Hex']], 'text');
  const follow = h('button', { type: 'button', 'aria-pressed': 'false', id: 'follow' }, 'Follow');
  const more = h('button', { type: 'button', id: 'more' }, 'Read more');
  const info = h('p', { role: 'status', id: 'reader-state' });
  const body = h('tbody');
  const records = [];
  let iterator = null;
  let following = false;

  const sequenceField = field('Sequence number', sequence);
  const whenField = field('Time (local)', when);
  const showInputs = () => {
    sequenceField.hidden = !start.value.includes('SEQUENCE');
    whenField.hidden = start.value !== 'AT_TIMESTAMP';
  };
  start.addEventListener('change', showInputs);
  showInputs();

  const form = h('form', { class: 'panel inline', id: 'reader' },
    field('Shard', shard), field('Start at', start), sequenceField, whenField, field('Show data as', format),
    h('button', { type: 'submit' }, 'Read'), more, follow);
  main.append(
    h('nav', { 'aria-label': 'Breadcrumb', class: 'crumbs' }, h('a', { href: '#/streams' }, 'Streams'), ' / ',
      h('a', { href: `#/streams/${encodeURIComponent(name)}` }, name), ' / records'),
    h('h1', {}, `Records of ${name}`), status, form, info,
    h('table', { class: 'grid records', id: 'records' },
      h('caption', {}, `Records read, oldest first (at most ${MAX_ROWS} kept)`),
      h('thead', {}, h('tr', {}, ['#', 'Partition key', 'Sequence number', 'Arrival time', 'Data'].map((c) => h('th', { scope: 'col' }, c)))),
      body));

  const shards = await listShards(name, page.signal);
  fill(shard, shards.map((s) => h('option', { value: s.ShardId }, `${s.ShardId}${s.SequenceNumberRange?.EndingSequenceNumber ? ' (closed)' : ''}`)));

  let counter = 0;
  function row(record) {
    return h('tr', {}, h('td', { class: 'num' }, record.n), h('td', {}, record.PartitionKey), h('td', { class: 'key' }, record.SequenceNumber),
      h('td', {}, time(record.ApproximateArrivalTimestamp)), h('td', {}, h('pre', { class: 'data' }, render(record.bytes, format.value))));
  }
  function add(list) {
    for (const r of list) {
      const record = { ...r, bytes: decode(r.Data), n: ++counter };
      records.push(record);
      body.append(row(record));
    }
    while (records.length > MAX_ROWS) { records.shift(); body.firstElementChild.remove(); }
  }
  format.addEventListener('change', () => fill(body, records.map(row)));

  async function read() {
    if (!iterator) return 0;
    const answer = await kinesis('GetRecords', { ShardIterator: iterator, Limit: PAGE }, page.signal);
    iterator = answer.NextShardIterator || null;
    add(answer.Records || []);
    info.textContent = `${records.length} records shown; ${iterator ? `${answer.MillisBehindLatest ?? 0} ms behind the shard's newest record` : 'the shard is closed and fully read'}.`;
    return (answer.Records || []).length;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const request = { StreamName: name, ShardId: shard.value, ShardIteratorType: start.value };
    if (start.value.includes('SEQUENCE')) request.StartingSequenceNumber = sequence.value.trim();
    if (start.value === 'AT_TIMESTAMP') request.Timestamp = (when.value ? new Date(when.value).getTime() : Date.now()) / 1000;
    records.length = 0;
    counter = 0;
    fill(body);
    try {
      iterator = (await kinesis('GetShardIterator', request, page.signal)).ShardIterator;
      // A fresh iterator may see nothing on its first call though records follow: read a few pages.
      for (let i = 0; i < 3; i++) if (!iterator || (await read()) > 0) break;
      status.textContent = '';
    } catch (e) { if (e.name !== 'AbortError') status.textContent = errorText(e); }
  });
  more.addEventListener('click', () => read().catch((e) => { status.textContent = errorText(e); }));
  follow.addEventListener('click', () => {
    following = !following;
    follow.setAttribute('aria-pressed', String(following));
    follow.textContent = following ? 'Following (stop)' : 'Follow';
    if (following && !iterator) form.requestSubmit();
  });
  page.every(FOLLOW_MS, async () => {
    if (!following || !iterator) return;
    try { await read(); status.textContent = ''; } catch (e) { if (e.name !== 'AbortError') status.textContent = errorText(e); }
  });
}
