// The console's one way to Runnel: its public APIs, POSTed to / and signed with SigV4 as any SDK does.
import { sign } from './sigv4.js';

const SERVICES = {
  kinesis: { target: 'Kinesis_20131202', type: 'application/x-amz-json-1.1' },
  firehose: { target: 'Firehose_20150804', type: 'application/x-amz-json-1.1' },
  monitoring: { target: 'GraniteServiceVersion20100801', type: 'application/x-amz-json-1.0' },
};

/** An error answered by the service: its type (ResourceNotFoundException…) and message, as sent. */
export class AwsError extends Error {
  constructor(type, message, status) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

const KEYS = { accessKey: 'runnel.accessKey', secretKey: 'runnel.secretKey', region: 'runnel.region' };

/** The credentials and region the console signs with (localStorage; runnel/runnel and us-east-1 by default). */
export function settings() {
  const get = (key, fallback) => { try { return localStorage.getItem(key) || fallback; } catch { return fallback; } };
  return { accessKey: get(KEYS.accessKey, 'runnel'), secretKey: get(KEYS.secretKey, 'runnel'), region: get(KEYS.region, '') };
}

export function saveSettings({ accessKey, secretKey, region }) {
  localStorage.setItem(KEYS.accessKey, accessKey);
  localStorage.setItem(KEYS.secretKey, secretKey);
  if (region) localStorage.setItem(KEYS.region, region); else localStorage.removeItem(KEYS.region);
}

let learnedRegion = 'us-east-1';

/** Learns the server's region from an ARN it answered (arn:aws:kinesis:REGION:ACCOUNT:…). */
export function learnRegion(arn) {
  const match = /^arn:[^:]+:[^:]+:([a-z0-9-]+):/.exec(arn || '');
  if (match) learnedRegion = match[1];
}

export const region = () => settings().region || learnedRegion;

/** Calls one operation: call('kinesis', 'ListStreams', {}) → the answer's JSON, or throws AwsError. */
export async function call(service, operation, body = {}, signal) {
  const { target, type } = SERVICES[service];
  const text = JSON.stringify(body);
  const { accessKey, secretKey } = settings();
  const signed = sign({
    method: 'POST', host: location.host, path: '/', body: text, region: region(), service, accessKey, secretKey, date: new Date(),
    headers: { 'content-type': type, 'x-amz-target': `${target}.${operation}` },
  });
  const response = await fetch('/', { method: 'POST', headers: signed.headers, body: text, signal });
  const answer = await response.text();
  let json = null;
  try { json = answer ? JSON.parse(answer) : {}; } catch { /* not JSON: an XML or plain error */ }
  if (!response.ok || json === null) {
    const errorType = String((json && (json.__type || json.code)) || `HTTP ${response.status}`).split('#').pop();
    const error = new AwsError(errorType, (json && (json.message || json.Message)) || answer.slice(0, 300), response.status);
    if (CREDENTIAL_ERRORS.has(errorType)) document.dispatchEvent(new CustomEvent('runnel:credentials', { detail: error }));
    throw error;
  }
  document.dispatchEvent(new CustomEvent('runnel:credentials', { detail: null }));
  return json;
}

/** The refusals that mean the console's key pair is not one the server takes (a server started with --auth sigv4). */
const CREDENTIAL_ERRORS = new Set(['UnrecognizedClientException', 'InvalidSignatureException', 'IncompleteSignatureException',
  'MissingAuthenticationTokenException', 'SignatureDoesNotMatch', 'InvalidClientTokenId']);

export const kinesis = (operation, body, signal) => call('kinesis', operation, body, signal);
export const firehose = (operation, body, signal) => call('firehose', operation, body, signal);
export const cloudwatch = (operation, body, signal) => call('monitoring', operation, body, signal);

/** Every stream: names with their summaries (ListStreams pages through NextToken). */
export async function listStreams(signal) {
  const streams = [];
  let token;
  do {
    const page = await kinesis('ListStreams', token ? { NextToken: token } : { Limit: 100 }, signal);
    for (const summary of page.StreamSummaries || []) { learnRegion(summary.StreamARN); streams.push(summary); }
    if (!page.StreamSummaries) for (const name of page.StreamNames || []) streams.push({ StreamName: name });
    token = page.HasMoreStreams ? page.NextToken : undefined;
  } while (token);
  return streams;
}

/** Every shard of a stream, closed ones included. */
export async function listShards(streamName, signal) {
  const shards = [];
  let token;
  do {
    const page = await kinesis('ListShards', token ? { NextToken: token } : { StreamName: streamName }, signal);
    shards.push(...(page.Shards || []));
    token = page.NextToken;
  } while (token);
  return shards;
}

/** Sums per minute of AWS/Kinesis metrics of a stream over the last `minutes`: {MetricName: [{t (ms), v}] oldest first}. */
export async function streamMetrics(streamName, metricNames, minutes = 60, signal) {
  const end = Math.ceil(Date.now() / 60000) * 60 + 60;
  const queries = metricNames.map((name, i) => ({
    Id: `m${i}`, ReturnData: true,
    MetricStat: { Metric: { Namespace: 'AWS/Kinesis', MetricName: name, Dimensions: [{ Name: 'StreamName', Value: streamName }] }, Period: 60, Stat: 'Sum' },
  }));
  const answer = await cloudwatch('GetMetricData', { MetricDataQueries: queries, StartTime: end - minutes * 60 - 60, EndTime: end, ScanBy: 'TimestampAscending' }, signal);
  const series = {};
  metricNames.forEach((name, i) => {
    const result = (answer.MetricDataResults || []).find((r) => r.Id === `m${i}`) || { Timestamps: [], Values: [] };
    series[name] = result.Timestamps.map((t, j) => ({ t: (typeof t === 'number' ? t * 1000 : Date.parse(t)), v: result.Values[j] }))
      .sort((a, b) => a.t - b.t);
  });
  return series;
}

/** Records per second from per-minute sums: the last two minutes' sum over the time they cover. */
export function perSecond(points) {
  if (!points || points.length === 0) return 0;
  const now = Date.now();
  const recent = points.filter((p) => p.t >= now - 120000);
  if (recent.length === 0) return 0;
  const span = Math.max(1, (now - recent[0].t) / 1000);
  return recent.reduce((sum, p) => sum + p.v, 0) / span;
}

/** A GET of one of Runnel's own endpoints (/metrics, /console/api/pipeline), signed as the API calls are: under
 * --auth sigv4 the server answers them only to a key of its credentials file. */
export function signedGet(path, accept, signal) {
  const { accessKey, secretKey } = settings();
  const signed = sign({
    method: 'GET', host: location.host, path, body: '', region: region(), service: 'kinesis', accessKey, secretKey,
    date: new Date(), headers: { accept },
  });
  return fetch(path, { signal, headers: signed.headers });
}

/** Runnel's pipeline view (GET /console/api/pipeline), or null where the server has none. */
export async function pipeline(signal) {
  try {
    const response = await signedGet('/console/api/pipeline', 'application/json', signal);
    if (!response.ok || !(response.headers.get('content-type') || '').includes('json')) return null;
    return await response.json();
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    return null;
  }
}
