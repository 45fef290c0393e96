// Enhanced fan-out through @aws-sdk/client-kinesis: RegisterStreamConsumer, DescribeStreamConsumer and
// SubscribeToShard with the SDK's DEFAULT request handler (NodeHttp2Handler: h2c on the shared http://
// endpoint), the event stream read as the SDK's async iterable. One test starts a Runnel server of its own
// with a TLS port and a self-signed certificate and subscribes over HTTP/2 by ALPN; another
// checks that such a server's TLS port is up, and SIGTERM is heeded, once /health answers 200.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import {
  CreateStreamCommand, DescribeStreamConsumerCommand, DescribeStreamSummaryCommand, KinesisClient,
  ListStreamConsumersCommand, PutRecordCommand, PutRecordsCommand, RegisterStreamConsumerCommand, ResourceInUseException,
  SplitShardCommand, StartStreamEncryptionCommand, SubscribeToShardCommand, waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { ACCOUNT, ENDPOINT, REGION, addTransportProbe, streamArn, test, uniqueName, waitFor } from './harness.js';
import { freePort, spawnRunnel } from './server.js';

const SHARD0 = 'shardId-000000000000';
const HALF = 2n ** 127n;
const CONSUMER_ARN = /^arn:aws:kinesis:[a-z0-9-]+:\d{12}:stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:\d+$/;

function newClient(endpoint = ENDPOINT, options = {}) {
  // No requestHandler option unless a test needs one (TLS): the SDK's own default transport.
  return new KinesisClient({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'interop', secretAccessKey: 'interop' },
    maxAttempts: 1,
    ...options,
  });
}

const kinesis = newClient();
const bytes = (value) => new TextEncoder().encode(value);
const text = (data) => new TextDecoder().decode(data);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));


async function createStream(tag, client = kinesis, shardCount = 1) {
  const name = uniqueName(tag);
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
  await waitUntilStreamExists({ client, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: name });
  return name;
}

async function waitStreamActive(name, client = kinesis) {
  await waitFor(async () => (await client.send(new DescribeStreamSummaryCommand({ StreamName: name })))
    .StreamDescriptionSummary.StreamStatus === 'ACTIVE', `stream ${name} to be ACTIVE`);
}

/** RegisterStreamConsumer, then DescribeStreamConsumer until ACTIVE; returns the consumer ARN. */
async function registerConsumer(name, consumerName = 'fanout', client = kinesis) {
  const { Consumer } = await client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn(name), ConsumerName: consumerName }));
  assert.equal(Consumer.ConsumerName, consumerName);
  assert.match(Consumer.ConsumerARN, CONSUMER_ARN);
  assert.ok(['CREATING', 'ACTIVE'].includes(Consumer.ConsumerStatus), Consumer.ConsumerStatus);
  assert.ok(Consumer.ConsumerCreationTimestamp instanceof Date);
  const described = await waitFor(async () => {
    const { ConsumerDescription } = await client.send(new DescribeStreamConsumerCommand({ ConsumerARN: Consumer.ConsumerARN }));
    return ConsumerDescription.ConsumerStatus === 'ACTIVE' && ConsumerDescription;
  }, `consumer ${consumerName} to be ACTIVE`);
  assert.equal(described.StreamARN, streamArn(name));
  assert.equal(described.ConsumerName, consumerName);
  return Consumer.ConsumerARN;
}

/**
 * One SubscribeToShard call whose event stream is drained in the background into `events`, so a test can wait
 * for what it expects with a bound. `error` is what the async iterator threw (null when it ended cleanly);
 * `close()` aborts the HTTP/2 stream. Every test closes its subscriptions in `finally`.
 */
class Subscription {
  static async open(consumerArn, shardId, startingPosition, client = kinesis) {
    const abort = new AbortController();
    const response = await client.send(new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: shardId, StartingPosition: startingPosition }),
      { abortSignal: abort.signal });
    assert.equal(response.$metadata.httpStatusCode, 200);
    return new Subscription(response, abort);
  }

  constructor(response, abort) {
    this.opened = Date.now(); // the server began the subscription before this
    this.abort = abort;
    this.events = [];
    this.error = null;
    this.ended = false;
    this.closed = false;
    this.drained = this.drain(response.EventStream);
  }

  async drain(eventStream) {
    try {
      for await (const event of eventStream) this.events.push({ at: Date.now(), ...event });
    } catch (error) {
      this.error = error;
    } finally {
      this.ended = true;
      this.endedAt = Date.now();
    }
  }

  /** The SubscribeToShardEvent members, in order; fails on any other union member. */
  get shardEvents() {
    return this.events.map(({ at, ...event }) => {
      assert.deepEqual(Object.keys(event), ['SubscribeToShardEvent'], `unexpected event ${JSON.stringify(event)}`);
      return { at, ...event.SubscribeToShardEvent };
    });
  }

  get records() {
    return this.shardEvents.flatMap((e) => e.Records);
  }

  /** Waits until at least `count` records arrived; the stream must not end first. */
  async waitRecords(count, seconds = 10) {
    await waitFor(() => {
      if (this.records.length >= count) return true;
      if (this.ended) throw new Error(`the subscription ended after ${this.records.length} of ${count} records: ${this.error ? `${this.error.name}: ${this.error.message}` : 'cleanly'}`);
      return false;
    }, `${count} records (have ${this.records.length})`, seconds);
    return this.records;
  }

  async waitEnded(seconds = 12) {
    await waitFor(() => this.ended, 'the subscription to end', seconds);
    return this.error;
  }

  async close() {
    if (!this.ended) {
      this.closed = true;
      this.abort.abort();
    }
    await Promise.race([this.drained, sleep(2000)]);
  }
}

/** SubscribeToShard again for a consumer that just closed a subscription of the same shard: AWS refuses a new one
 *  within 5 s of the last one's start (ResourceInUseException), so it is retried for at most 6.5 s. */
async function resubscribe(consumerArn, shardId, startingPosition, client = kinesis) {
  const deadline = Date.now() + 6500;
  for (;;) {
    try {
      return await Subscription.open(consumerArn, shardId, startingPosition, client);
    } catch (error) {
      if (error.name !== 'ResourceInUseException' || Date.now() > deadline) throw error;
      await sleep(250);
    }
  }
}

/** PutRecord one at a time; returns [{ SequenceNumber, data, key }] in put order. */
async function putEach(name, prefix, count, extra = {}, client = kinesis) {
  const puts = [];
  for (let i = 0; i < count; i += 1) {
    const data = `${prefix}-${i}`;
    const { SequenceNumber, ShardId } = await client.send(new PutRecordCommand({ StreamName: name, PartitionKey: `key-${prefix}-${i}`, Data: bytes(data), ...extra }));
    puts.push({ SequenceNumber, ShardId, data, key: `key-${prefix}-${i}` });
  }
  return puts;
}

/** One PutRecords call; returns the records in request order, which is their order in the shard. */
async function putBatch(name, prefix, count, client = kinesis) {
  const entries = Array.from({ length: count }, (_, i) => ({ PartitionKey: `key-${prefix}-${i}`, Data: bytes(`${prefix}-${i}`) }));
  const response = await client.send(new PutRecordsCommand({ StreamName: name, Records: entries }));
  assert.equal(response.FailedRecordCount ?? 0, 0);
  return response.Records.map((r, i) => ({ SequenceNumber: r.SequenceNumber, ShardId: r.ShardId, data: `${prefix}-${i}`, key: `key-${prefix}-${i}` }));
}

/** The records received are exactly the records put, in the same order, byte for byte. */
function assertSameRecords(received, puts, what) {
  assert.deepEqual(received.map((r) => r.SequenceNumber), puts.map((p) => p.SequenceNumber), `${what}: sequence numbers`);
  assert.deepEqual(received.map((r) => text(r.Data)), puts.map((p) => p.data), `${what}: data`);
  assert.deepEqual(received.map((r) => r.PartitionKey), puts.map((p) => p.key), `${what}: partition keys`);
  for (const record of received) assert.ok(record.ApproximateArrivalTimestamp instanceof Date, `${what}: ApproximateArrivalTimestamp`);
}

/** Every event of an open shard: a ContinuationSequenceNumber at or after its last record, MillisBehindLatest, no ChildShards. */
function assertOpenShardEvents(events) {
  let previous = -1n;
  for (const e of events) {
    assert.equal(typeof e.ContinuationSequenceNumber, 'string', `event without ContinuationSequenceNumber: ${JSON.stringify(e)}`);
    assert.ok(Number.isInteger(e.MillisBehindLatest) && e.MillisBehindLatest >= 0, `MillisBehindLatest ${e.MillisBehindLatest}`);
    assert.ok(!e.ChildShards || e.ChildShards.length === 0, 'ChildShards on an open shard');
    for (const r of e.Records) {
      assert.ok(BigInt(r.SequenceNumber) > previous, 'sequence numbers must increase');
      previous = BigInt(r.SequenceNumber);
    }
    assert.ok(BigInt(e.ContinuationSequenceNumber) >= previous, `ContinuationSequenceNumber ${e.ContinuationSequenceNumber} before record ${previous}`);
  }
}

test('fanout: register, subscribe LATEST over h2c, records pushed in order as they are put', async () => {
  const client = newClient();
  const seen = addTransportProbe(client, 'fanoutTransportProbe');
  const name = await createStream('fanlatest', client);
  const before = await putEach(name, 'before', 3, {}, client);
  const arn = await registerConsumer(name, 'latest', client);
  const listed = await client.send(new ListStreamConsumersCommand({ StreamARN: streamArn(name) }));
  assert.deepEqual(listed.Consumers.map((c) => [c.ConsumerName, c.ConsumerARN, c.ConsumerStatus]), [['latest', arn, 'ACTIVE']]);
  seen.length = 0;
  const sub = await Subscription.open(arn, SHARD0, { Type: 'LATEST' }, client);
  try {
    assert.deepEqual(seen, [{ stream: 'ClientHttp2Stream', protocol: 'h2c' }], 'SubscribeToShard over cleartext HTTP/2');
    // Pushed as soon as appended: the first record must not wait for the 5-second idle event.
    const [first] = await putEach(name, 'first', 1, {}, client);
    const put = Date.now();
    await sub.waitRecords(1, 10);
    const arrived = sub.shardEvents.find((e) => e.Records.length > 0).at;
    assert.ok(arrived - put < 2500, `the first record arrived ${arrived - put} ms after its PutRecord returned`);
    const puts = [first, ...await putEach(name, 'single', 20, {}, client), ...await putBatch(name, 'batch', 30, client)];
    const received = await sub.waitRecords(puts.length, 10);
    assertSameRecords(received, puts, 'LATEST subscription');
    for (const b of before) assert.ok(!received.some((r) => r.SequenceNumber === b.SequenceNumber), 'LATEST delivered a record put before it');
    assertOpenShardEvents(sub.shardEvents);
    await sleep(200);
    assert.equal(sub.records.length, puts.length, 'records after the last one put');
    assert.equal(sub.ended, false, `the subscription ended: ${sub.error}`);
  } finally {
    await sub.close();
    client.destroy();
  }
});

test('fanout: records of an encrypted stream arrive opened, each with EncryptionType KMS, the earlier ones without', async () => {
  const name = await createStream('fanenc');
  const [plain] = await putEach(name, 'plain', 1);
  await kinesis.send(new StartStreamEncryptionCommand({ StreamName: name, EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' }));
  await waitStreamActive(name);
  const sealed = await putEach(name, 'sealed', 2);
  const arn = await registerConsumer(name, 'enc');
  const sub = await Subscription.open(arn, SHARD0, { Type: 'TRIM_HORIZON' });
  try {
    const received = await sub.waitRecords(3, 10);
    assertSameRecords(received, [plain, ...sealed], 'TRIM_HORIZON subscription of an encrypted stream');
    assert.deepEqual(received.map((r) => r.EncryptionType), [undefined, 'KMS', 'KMS']);
  } finally {
    await sub.close();
  }
});

test('fanout: resubscribe AFTER_SEQUENCE_NUMBER from ContinuationSequenceNumber loses and repeats nothing', async () => {
  const name = await createStream('fancontinue');
  const arn = await registerConsumer(name);
  const first = await Subscription.open(arn, SHARD0, { Type: 'LATEST' });
  let continuation;
  const early = await putBatch(name, 'early', 10);
  try {
    assertSameRecords(await first.waitRecords(10), early, 'first subscription');
    await sleep(100);
    const events = first.shardEvents;
    assertOpenShardEvents(events);
    continuation = events.at(-1).ContinuationSequenceNumber;
  } finally {
    await first.close();
  }
  // Written while no subscription is open.
  const missed = await putEach(name, 'missed', 15);
  const second = await resubscribe(arn, SHARD0, { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: continuation });
  try {
    const late = await putBatch(name, 'late', 5);
    const received = await second.waitRecords(20);
    assertSameRecords(received, [...missed, ...late], 'resubscription');
    await sleep(300);
    assert.equal(second.records.length, 20, 'records repeated or invented after the resubscription');
    assertOpenShardEvents(second.shardEvents);
  } finally {
    await second.close();
  }
});

test('fanout: a split ends the subscription with ChildShards, then new subscriptions read the children', async () => {
  const name = await createStream('fansplit');
  const arn = await registerConsumer(name);
  const parent = await Subscription.open(arn, SHARD0, { Type: 'TRIM_HORIZON' });
  const children = [];
  try {
    const puts = await putBatch(name, 'parent', 5);
    await parent.waitRecords(5);
    // Put just before the split and not waited for: they still come before the shard's end.
    puts.push(...await putEach(name, 'last', 3));
    await kinesis.send(new SplitShardCommand({ StreamName: name, ShardToSplit: SHARD0, NewStartingHashKey: HALF.toString() }));
    await waitStreamActive(name);
    const error = await parent.waitEnded(12);
    assert.equal(error, null, `the parent's subscription ended with ${error?.name}: ${error?.message}`);
    const events = parent.shardEvents;
    assertSameRecords(parent.records, puts, 'parent shard');
    const last = events.at(-1);
    assert.ok(last.ContinuationSequenceNumber == null, `the closed shard's last event has ContinuationSequenceNumber ${last.ContinuationSequenceNumber}`);
    assert.ok(Array.isArray(last.ChildShards), `the closed shard's last event has no ChildShards: ${JSON.stringify(last)}`);
    const childShards = [...last.ChildShards].sort((a, b) => a.ShardId.localeCompare(b.ShardId));
    assert.deepEqual(childShards, [
      { ShardId: 'shardId-000000000001', ParentShards: [SHARD0], HashKeyRange: { StartingHashKey: '0', EndingHashKey: (HALF - 1n).toString() } },
      { ShardId: 'shardId-000000000002', ParentShards: [SHARD0], HashKeyRange: { StartingHashKey: HALF.toString(), EndingHashKey: (2n ** 128n - 1n).toString() } },
    ]);
    assertOpenShardEvents(events.slice(0, -1));

    for (const child of childShards) children.push(await Subscription.open(arn, child.ShardId, { Type: 'TRIM_HORIZON' }));
    const low = await putEach(name, 'low', 3, { ExplicitHashKey: '1' });
    const high = await putEach(name, 'high', 3, { ExplicitHashKey: (HALF + 1n).toString() });
    assert.deepEqual([...new Set(low.map((p) => p.ShardId))], ['shardId-000000000001']);
    assert.deepEqual([...new Set(high.map((p) => p.ShardId))], ['shardId-000000000002']);
    assertSameRecords(await children[0].waitRecords(3), low, 'child shardId-000000000001');
    assertSameRecords(await children[1].waitRecords(3), high, 'child shardId-000000000002');
  } finally {
    await Promise.all([parent, ...children].map((s) => s.close()));
  }
});

test('fanout: a second subscription within 5 s is refused, a later one takes over and the old one throws ResourceInUseException', async () => {
  const name = await createStream('fantakeover');
  const arn = await registerConsumer(name);
  const old = await Subscription.open(arn, SHARD0, { Type: 'LATEST' });
  let newer;
  try {
    let refused;
    try {
      newer = await Subscription.open(arn, SHARD0, { Type: 'LATEST' });
    } catch (error) {
      refused = error;
    }
    assert.ok(refused, 'a second subscription within 5 s of the first was accepted');
    assert.equal(refused.name, 'ResourceInUseException', `${refused.name}: ${refused.message}`);
    assert.ok(refused instanceof ResourceInUseException);
    assert.equal(refused.$metadata.httpStatusCode, 400);
    assert.equal(refused.$fault, 'client');

    const [one] = await putEach(name, 'one', 1);
    assertSameRecords(await old.waitRecords(1), [one], 'first subscription');
    // The server began the first subscription before its send() resolved: 5.3 s after that, it may be taken over.
    await sleep(Math.max(0, old.opened + 5300 - Date.now()));
    assert.equal(old.ended, false, `the first subscription ended by itself: ${old.error}`);
    newer = await Subscription.open(arn, SHARD0, { Type: 'LATEST' });
    const error = await old.waitEnded(5);
    assert.ok(error, 'the taken-over subscription ended without an error');
    assert.equal(error.name, 'ResourceInUseException', `${error.name}: ${error.message}`);
    assert.ok(error instanceof ResourceInUseException, 'the iterator threw something else than ResourceInUseException');

    const [two] = await putEach(name, 'two', 1);
    assertSameRecords(await newer.waitRecords(1), [two], 'the subscription that took over');
    assertSameRecords(old.records, [one], 'the taken-over subscription');
  } finally {
    await Promise.all([old, newer].filter(Boolean).map((s) => s.close()));
  }
});

/** GET /health over plain HTTP/1.1 on a fresh connection: the status, or 0 when the connection failed. */
function plainHealth(port) {
  return new Promise((done) => {
    const request = httpGet({ host: '127.0.0.1', port, path: '/health', agent: false, timeout: 1000 }, (response) => {
      response.resume();
      done(response.statusCode);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => done(0));
  });
}

/** A TLS handshake with the TLS port, trusting `ca` and offering h2: the ALPN protocol chosen, or the error. */
function tlsHandshake(port, ca) {
  return new Promise((done) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, ALPNProtocols: ['h2', 'http/1.1'], timeout: 5000 }, () => {
      done({ alpn: socket.alpnProtocol });
      socket.destroy();
    });
    socket.on('timeout', () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', (error) => done({ error: `${error.code ?? error.name}: ${error.message}` }));
  });
}

/** A self-signed P-256 certificate for IP 127.0.0.1 in `root`: { cert, key } paths. */
function selfSignedCertificate(root) {
  const cert = join(root, 'cert.pem');
  const key = join(root, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'pipe' });
  return { cert, key };
}

test('fanout: over TLS (HTTP/2 by ALPN, self-signed certificate): register, subscribe, receive records', async () => {
  const root = mkdtempSync(join(tmpdir(), 'interop-js-tls-'));
  let server;
  let client;
  let sub;
  try {
    const { cert, key } = selfSignedCertificate(root);
    const ca = readFileSync(cert);
    const tlsPort = await freePort();
    server = await spawnRunnel(root, ['--limits', 'off', '--tls-port', String(tlsPort), '--tls-cert', cert, '--tls-key', key]);
    // Ready when the TLS port itself answers and start-up has finished (the "listening" line); /health says
    // the same since the start-up test below.
    await waitFor(async () => {
      if (!server.running()) throw new Error(`runnel exited: ${server.log().slice(-2000)}`);
      return server.log().includes('Runnel listening on') && (await tlsHandshake(tlsPort, ca)).alpn === 'h2';
    }, 'the TLS server to start', 20);

    // The SDK's HTTP/2 handler, told to trust this one certificate (no NODE_TLS_REJECT_UNAUTHORIZED, no global CA change).
    client = newClient(`https://127.0.0.1:${tlsPort}`, {
      requestHandler: new NodeHttp2Handler({ disableConcurrentStreams: true, nodeHttp2ConnectOptions: { ca } }),
    });
    const seen = addTransportProbe(client, 'fanoutTransportProbe');
    const name = await createStream('fantls', client);
    const arn = await registerConsumer(name, 'tls', client);
    assert.ok(arn.startsWith(`arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${name}/consumer/tls:`), arn);
    seen.length = 0;
    sub = await Subscription.open(arn, SHARD0, { Type: 'LATEST' }, client);
    assert.deepEqual(seen, [{ stream: 'ClientHttp2Stream', protocol: 'h2' }], 'SubscribeToShard over HTTP/2 negotiated by ALPN');
    const puts = [...await putEach(name, 'tls', 5, {}, client), ...await putBatch(name, 'tlsbatch', 10, client)];
    assertSameRecords(await sub.waitRecords(puts.length), puts, 'subscription over TLS');
    assertOpenShardEvents(sub.shardEvents);
    // Without the certificate the SDK refuses the server: the handler really checks it.
    const untrusting = newClient(`https://127.0.0.1:${tlsPort}`);
    try {
      await assert.rejects(untrusting.send(new DescribeStreamSummaryCommand({ StreamName: name })),
        (error) => /self[- ]signed|certificate/i.test(`${error.code} ${error.message}`));
    } finally {
      untrusting.destroy();
    }
  } finally {
    if (sub) await sub.close();
    client?.destroy();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  }
  assert.deepEqual(server.failures(), [], 'the TLS server logged internal failures');
});

// Start-up readiness (a regression test for two bugs this suite found): `runnel serve --help` says "GET /health
// answers 200 once the server is ready". Kestrel serves the plain port (and so /health) as soon as that port is
// bound, before it binds --tls-port, so /health now answers 503 {"status":"starting"} until every listener is
// bound; and a SIGTERM sent during start-up, once lost, now stops the server. Polling /health every 2 ms showed
// both nearly every time before the fix.
test('fanout: start-up: the TLS port accepts connections and SIGTERM stops the server once /health answers 200', async () => {
  const root = mkdtempSync(join(tmpdir(), 'interop-js-tls-ready-'));
  let server;
  const problems = [];
  try {
    const { cert, key } = selfSignedCertificate(root);
    const ca = readFileSync(cert);
    const tlsPort = await freePort();
    const spawned = Date.now();
    server = await spawnRunnel(root, ['--limits', 'off', '--tls-port', String(tlsPort), '--tls-cert', cert, '--tls-key', key]);
    const deadline = Date.now() + 20_000;
    while (await plainHealth(server.port) !== 200) {
      if (!server.running()) throw new Error(`runnel exited: ${server.log().slice(-2000)}`);
      if (Date.now() > deadline) throw new Error('/health did not answer 200 within 20 s');
      await sleep(2);
    }
    const handshake = await tlsHandshake(tlsPort, ca);
    if (handshake.alpn !== 'h2') {
      problems.push(`GET http://127.0.0.1:${server.port}/health answered 200, then a TLS connection to 127.0.0.1:${tlsPort} `
        + `(ALPN h2) failed: ${handshake.error ?? `ALPN ${handshake.alpn}`}`);
    }
    const terminated = Date.now() - spawned;
    if (!await server.stop(5000)) {
      problems.push(`SIGTERM sent ${terminated} ms after the spawn, right after /health answered 200, did not stop the server within 5 s (it was killed)`);
    }
  } finally {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  }
  assert.deepEqual(problems, [], 'server start-up');
});
