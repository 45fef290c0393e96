// Hand-drawn SVG: the last hour's line charts and the shard lineage graph (x: generation, y: place in the hash key space).
import { s, rate } from './dom.js';

const TWO_128 = 2n ** 128n;

/** A chart of per-minute values over the last `minutes`: points [{t (ms), v}]. */
export function lineChart(points, { title, unit = '', minutes = 60, width = 460, height = 170 }) {
  const left = 52, right = 12, top = 14, bottom = 26;
  const end = Date.now(), start = end - minutes * 60000;
  const shown = points.filter((p) => p.t >= start - 60000);
  const max = Math.max(1, ...shown.map((p) => p.v));
  const x = (t) => left + ((t - start) / (end - start)) * (width - left - right);
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  const latest = shown.length ? shown[shown.length - 1].v : 0;
  const svg = s('svg', {
    class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `${title}, last ${minutes} minutes: ${shown.length} points, latest ${rate(latest)}${unit}, highest ${rate(max)}${unit}`,
  });
  for (const fraction of [0, 0.5, 1]) {
    const gy = y(max * fraction);
    svg.append(s('line', { class: 'grid', x1: left, x2: width - right, y1: gy, y2: gy }),
      s('text', { class: 'axis', x: left - 6, y: gy + 4, 'text-anchor': 'end' }, rate(max * fraction)));
  }
  svg.append(s('text', { class: 'axis', x: left, y: height - 6 }, `−${minutes} min`),
    s('text', { class: 'axis', x: width - right, y: height - 6, 'text-anchor': 'end' }, 'now'));
  if (shown.length) {
    svg.append(s('polyline', { class: 'line', points: shown.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ') }));
    for (const p of shown) {
      svg.append(s('circle', { class: 'point', cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5 },
        s('title', {}, `${new Date(p.t).toLocaleTimeString()}: ${rate(p.v)}${unit}`)));
    }
  } else {
    svg.append(s('text', { class: 'axis', x: width / 2, y: height / 2, 'text-anchor': 'middle' }, 'no data in the last hour'));
  }
  return svg;
}

const fraction = (key) => Number((BigInt(key) * 1000000n) / TWO_128) / 1000000;

/** The shards of a stream as a graph: each shard a box spanning its hash key range, joined to its parents. */
export function lineageGraph(shards) {
  const byId = new Map(shards.map((shard) => [shard.ShardId, shard]));
  const depth = new Map();
  const depthOf = (id, guard = 0) => {
    if (depth.has(id)) return depth.get(id);
    const shard = byId.get(id);
    const parents = shard ? [shard.ParentShardId, shard.AdjacentParentShardId].filter((p) => p && byId.has(p)) : [];
    const d = guard > 1000 || parents.length === 0 ? 0 : 1 + Math.max(...parents.map((p) => depthOf(p, guard + 1)));
    depth.set(id, d);
    return d;
  };
  shards.forEach((shard) => depthOf(shard.ShardId));
  const generations = Math.max(0, ...depth.values()) + 1;
  const boxWidth = 150, gap = 60, height = 260, top = 8;
  const width = generations * boxWidth + (generations - 1) * gap + 16;
  const svg = s('svg', {
    class: 'lineage', viewBox: `0 0 ${width} ${height + top * 2}`, role: 'img', width,
    'aria-label': `Shard lineage: ${shards.length} shards in ${generations} generations; the table below lists them.`,
  });
  const place = new Map();
  for (const shard of shards) {
    const range = shard.HashKeyRange || { StartingHashKey: '0', EndingHashKey: String(TWO_128 - 1n) };
    const y0 = top + fraction(range.StartingHashKey) * height;
    const y1 = top + fraction(range.EndingHashKey) * height;
    place.set(shard.ShardId, { x: 8 + depth.get(shard.ShardId) * (boxWidth + gap), y: y0, h: Math.max(16, y1 - y0) });
  }
  for (const shard of shards) {
    const child = place.get(shard.ShardId);
    for (const parentId of [shard.ParentShardId, shard.AdjacentParentShardId]) {
      const parent = parentId && place.get(parentId);
      if (!parent) continue;
      const x1 = parent.x + boxWidth, y1 = parent.y + parent.h / 2, x2 = child.x, y2 = child.y + child.h / 2;
      svg.append(s('path', { class: 'edge', d: `M${x1},${y1} C${x1 + gap / 2},${y1} ${x2 - gap / 2},${y2} ${x2},${y2}` }));
    }
  }
  for (const shard of shards) {
    const p = place.get(shard.ShardId);
    const closed = !!(shard.SequenceNumberRange && shard.SequenceNumberRange.EndingSequenceNumber);
    const label = `${shard.ShardId.replace(/^shardId-0*(\d)/, 'shard $1')}${closed ? ' (closed)' : ''}`;
    svg.append(s('g', { class: closed ? 'shard closed' : 'shard open', 'data-shard': shard.ShardId },
      s('rect', { x: p.x, y: p.y, width: boxWidth, height: p.h, rx: 3 }),
      s('text', { x: p.x + 6, y: p.y + Math.min(p.h / 2 + 4, 14) }, label),
      s('title', {}, `${shard.ShardId}${closed ? ', closed' : ', open'}; hash keys ${shard.HashKeyRange?.StartingHashKey}–${shard.HashKeyRange?.EndingHashKey}`)));
  }
  return svg;
}
