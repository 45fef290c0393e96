// The pipeline map: producers → streams → consumers and delivery streams → destinations, each edge labelled with its
// rate, lag and errors; what lags more than a minute or fails is drawn in red and says so in words: the reading end of
// an edge (a consumer, a destination), or the producer whose records a stream refuses.
import { h, s, fill, errorText, rate, duration, scrollBox } from './dom.js';
import { kinesis, firehose, listStreams, pipeline } from './api.js';
import { ingestRates } from './streams.js';

const REFRESH_MS = 5000;
const LAG_LIMIT_MS = 60000;

/** The pipeline from Runnel's own view (GET /console/api/pipeline). */
function fromView(view) {
  const graph = { nodes: new Map(), edges: [] };
  const node = (id, column, label, sub, problem) => {
    if (!graph.nodes.has(id)) graph.nodes.set(id, { id, column, label, sub, problem });
    return id;
  };
  const deliveryNames = new Set((view.deliveryStreams || []).map((d) => d.name));
  const deliveryReads = new Map(); // `${stream}/${delivery}` → the delivery stream as a reader of its source: its lag
  for (const stream of view.streams || []) {
    const sid = node(`stream:${stream.name}`, 1, stream.name, `${rate(stream.incomingRecordsPerSecond)} rec/s in`,
      stream.errorsPerMinute > 0 ? `${stream.errorsPerMinute} errors/min` : null);
    for (const p of stream.producers || []) {
      graph.edges.push({ from: node(`producer:${p.client}`, 0, p.client, `last seen ${new Date(p.lastSeen).toLocaleTimeString()}`), to: sid,
        rate: p.recordsPerSecond, errors: p.errorsPerMinute, blame: 'from' });
    }
    if (!(stream.producers || []).length && stream.incomingRecordsPerSecond > 0)
      graph.edges.push({ from: node('producer:?', 0, 'unknown producers', ''), to: sid, rate: stream.incomingRecordsPerSecond });
    for (const c of stream.consumers || []) {
      if (c.kind === 'delivery' && deliveryNames.has(c.name)) { // drawn from deliveryStreams below, with this lag
        deliveryReads.set(`${stream.name}/${c.name}`, c);
        continue;
      }
      const cid = node(`consumer:${stream.name}/${c.kind}/${c.name}`, 2, c.name, c.reading === false ? `${c.kind}, not reading` : c.kind);
      graph.edges.push({ from: sid, to: cid, rate: c.recordsPerSecond, lag: c.millisBehind, behind: c.recordsBehind, errors: c.errorsPerMinute });
    }
  }
  for (const d of view.deliveryStreams || []) {
    const did = node(`delivery:${d.name}`, 2, d.name, `delivery stream, ${d.status}`);
    const from = d.source ? node(`stream:${d.source}`, 1, d.source, '') : node('producer:direct', 0, 'Direct PUT', 'Firehose producers');
    const read = d.source ? deliveryReads.get(`${d.source}/${d.name}`) : undefined;
    graph.edges.push({ from, to: did, rate: d.incomingRecordsPerSecond, lag: read?.millisBehind, behind: read?.recordsBehind });
    graph.edges.push({ from: did, to: node(`destination:${d.name}`, 3, d.destination, `of ${d.name}`), rate: d.deliveredRecordsPerSecond,
      lag: d.freshnessSeconds === undefined || d.freshnessSeconds === null ? undefined : d.freshnessSeconds * 1000, errors: d.errorsPerMinute });
  }
  return graph;
}

const DESTINATIONS = [['ExtendedS3', 'S3'], ['S3', 'S3'], ['HttpEndpoint', 'HttpEndpoint'], ['Redshift', 'Redshift'],
  ['AmazonopensearchService', 'OpenSearch'], ['AmazonOpenSearchServerless', 'OpenSearch Serverless'], ['Elasticsearch', 'Elasticsearch'],
  ['Splunk', 'Splunk'], ['Snowflake', 'Snowflake'], ['Iceberg', 'Iceberg']];

/** The same built from the Kinesis and Firehose APIs alone (no producers, no lag), where the server has no view. */
async function fromApis(signal) {
  const streams = await listStreams(signal);
  const rates = await ingestRates(streams.map((x) => x.StreamName), signal).catch(() => ({}));
  const view = { streams: [], deliveryStreams: [] };
  for (const stream of streams) {
    const consumers = stream.StreamARN
      ? (await kinesis('ListStreamConsumers', { StreamARN: stream.StreamARN }, signal).catch(() => ({ Consumers: [] }))).Consumers || [] : [];
    view.streams.push({
      name: stream.StreamName, incomingRecordsPerSecond: rates[stream.StreamName] || 0, producers: [],
      consumers: consumers.map((c) => ({ kind: 'consumer', name: c.ConsumerName })),
    });
  }
  const names = (await firehose('ListDeliveryStreams', { Limit: 100 }, signal).catch(() => ({}))).DeliveryStreamNames || [];
  for (const name of names) {
    const d = (await firehose('DescribeDeliveryStream', { DeliveryStreamName: name }, signal).catch(() => null))?.DeliveryStreamDescription;
    if (!d) continue;
    const arn = d.Source?.KinesisStreamSourceDescription?.KinesisStreamARN;
    const keys = Object.keys((d.Destinations || [])[0] || {});
    const destination = DESTINATIONS.find(([prefix]) => keys.includes(`${prefix}DestinationDescription`))?.[1] || 'destination';
    view.deliveryStreams.push({ name, status: d.DeliveryStreamStatus, source: arn ? arn.split('/').pop() : null, destination });
  }
  return fromView(view);
}

function problemOf(edge) {
  if (edge.errors > 0) return `failing: ${rate(edge.errors)} errors/min`;
  if (edge.lag > LAG_LIMIT_MS) return `slow: ${duration(edge.lag)} behind`;
  return null;
}

function edgeLabel(edge) {
  const parts = [edge.rate === undefined ? 'rate unknown' : `${rate(edge.rate)} rec/s`];
  if (edge.lag !== undefined && edge.lag !== null) parts.push(`lag ${duration(edge.lag)}`);
  if (edge.errors) parts.push(`${rate(edge.errors)} err/min`);
  const problem = problemOf(edge);
  return problem ? `⚠ ${parts.join(' · ')}` : parts.join(' · ');
}

const COLUMN_X = [16, 346, 676, 1006], NODE_W = 180, NODE_H = 46, ROW_H = 74;

export function drawMap(graph) {
  const columns = [[], [], [], []];
  for (const n of graph.nodes.values()) columns[n.column].push(n);
  for (const e of graph.edges) if (problemOf(e)) graph.nodes.get(e.blame === 'from' ? e.from : e.to).problem ??= problemOf(e);
  const rows = Math.max(1, ...columns.map((c) => c.length));
  const height = rows * ROW_H + 40;
  columns.forEach((list) => list.forEach((n, i) => { n.x = COLUMN_X[n.column]; n.y = 34 + i * ROW_H; }));
  const svg = s('svg', { class: 'map', viewBox: `0 0 ${COLUMN_X[3] + NODE_W + 16} ${height}`, role: 'img',
    'aria-label': `Pipeline map: ${graph.nodes.size} parts, ${graph.edges.length} connections; the table below lists them.` });
  ['Producers', 'Streams', 'Consumers and delivery streams', 'Destinations'].forEach((title, i) =>
    svg.append(s('text', { class: 'column', x: COLUMN_X[i], y: 18 }, title)));
  for (const e of graph.edges) {
    const a = graph.nodes.get(e.from), b = graph.nodes.get(e.to);
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
    const bad = !!problemOf(e);
    svg.append(s('g', { class: bad ? 'link bad' : 'link', 'data-from': e.from, 'data-to': e.to },
      s('path', { d: `M${x1},${y1} C${x1 + 40},${y1} ${x2 - 40},${y2} ${x2},${y2}` }),
      // Labelled just before its target, where edges fanning out of one node have already parted.
      s('text', { x: x2 - 6, y: y2 - 8, 'text-anchor': 'end' }, edgeLabel(e))));
  }
  for (const n of graph.nodes.values()) {
    svg.append(s('g', { class: n.problem ? 'node bad' : 'node', 'data-node': n.id },
      s('rect', { x: n.x, y: n.y, width: NODE_W, height: NODE_H, rx: 5 }),
      s('text', { class: 'label', x: n.x + 8, y: n.y + 18 }, n.label.length > 25 ? n.label.slice(0, 24) + '…' : n.label),
      s('text', { class: 'sub', x: n.x + 8, y: n.y + 36 }, n.problem ? `⚠ ${n.problem}` : n.sub || ''),
      s('title', {}, `${n.label}${n.sub ? `, ${n.sub}` : ''}${n.problem ? `: ${n.problem}` : ''}`)));
  }
  return svg;
}

export function pipelinePage(main, _params, page) {
  const status = h('p', { class: 'error', role: 'alert' });
  const source = h('p', { id: 'map-source' });
  const map = scrollBox('map', 'Pipeline map');
  const body = h('tbody');
  main.append(h('h1', {}, 'Pipeline'), status, source, map,
    h('table', { class: 'grid', id: 'edges' }, h('caption', {}, 'Connections, refreshed every 5 seconds'),
      h('thead', {}, h('tr', {}, ['From', 'To', 'Records/s', 'Lag', 'Errors/min', 'State'].map((c) => h('th', { scope: 'col' }, c)))), body));
  page.every(REFRESH_MS, async () => {
    try {
      const view = await pipeline(page.signal);
      const graph = view ? fromView(view) : await fromApis(page.signal);
      source.textContent = view ? 'From Runnel\'s pipeline view: producers by access key and client, consumers with their lag.'
        : 'From the Kinesis and Firehose APIs: this server has no pipeline view, so producers and lag are not shown.';
      fill(map, graph.nodes.size ? drawMap(graph) : h('p', {}, 'Nothing to draw yet: create a stream.'));
      const name = (id) => graph.nodes.get(id).label;
      fill(body, graph.edges.map((e) => h('tr', { class: problemOf(e) ? 'bad' : '' }, h('td', {}, name(e.from)), h('td', {}, name(e.to)),
        h('td', { class: 'num' }, rate(e.rate)), h('td', { class: 'num' }, e.lag === undefined ? '–' : duration(e.lag)),
        h('td', { class: 'num' }, e.errors ?? '–'), h('td', {}, problemOf(e) || 'OK'))));
      status.textContent = '';
    } catch (e) { if (e.name !== 'AbortError') status.textContent = errorText(e); }
  });
}
