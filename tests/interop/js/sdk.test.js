// The AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis) with its DEFAULT request handler, which for
// Kinesis is NodeHttp2Handler: on an http:// endpoint it speaks cleartext HTTP/2 with prior knowledge.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  AddTagsToStreamCommand, CreateStreamCommand, DecreaseStreamRetentionPeriodCommand, DeleteStreamCommand, DryRunOperationException,
  DescribeLimitsCommand, DescribeStreamCommand, DescribeStreamSummaryCommand, DisableEnhancedMonitoringCommand,
  EnableEnhancedMonitoringCommand, GetRecordsCommand, GetShardIteratorCommand, IncreaseStreamRetentionPeriodCommand,
  InvalidArgumentException, KinesisClient, ListShardsCommand, ListStreamsCommand, ListTagsForResourceCommand,
  ListTagsForStreamCommand, PutRecordCommand, PutRecordsCommand, RemoveTagsFromStreamCommand, ResourceInUseException,
  ResourceNotFoundException, TagResourceCommand, UntagResourceCommand, ValidationException, waitUntilStreamExists,
  waitUntilStreamNotExists,
} from '@aws-sdk/client-kinesis';
import { ACCOUNT, ENDPOINT, REGION, addTransportProbe, notFound, streamArn, test, uniqueName } from './harness.js';

const HASH_KEY_SPACE = 2n ** 128n;
const EITHER_OR = 'Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber '
  + 'or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber.';

function newClient() {
  // No requestHandler option: the point of this suite is the SDK's own default transport.
  return new KinesisClient({
    endpoint: ENDPOINT,
    region: REGION,
    credentials: { accessKeyId: 'interop', secretAccessKey: 'interop' },
    maxAttempts: 1,
  });
}

const kinesis = newClient();
const send = (command) => kinesis.send(command);
const bytes = (text) => new TextEncoder().encode(text);
const text = (data) => new TextDecoder().decode(data);

async function createStream(tag, input = { ShardCount: 1 }) {
  const name = uniqueName(tag);
  await send(new CreateStreamCommand({ StreamName: name, ...input }));
  await waitUntilStreamExists({ client: kinesis, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: name });
  return name;
}

async function shards(name) {
  return (await send(new ListShardsCommand({ StreamName: name }))).Shards;
}

function md5HashKey(partitionKey) {
  return BigInt('0x' + createHash('md5').update(partitionKey, 'utf8').digest('hex'));
}

function shardFor(shardList, hashKey) {
  const shard = shardList.find((s) => BigInt(s.HashKeyRange.StartingHashKey) <= hashKey && hashKey <= BigInt(s.HashKeyRange.EndingHashKey));
  assert.ok(shard, `no shard holds hash key ${hashKey}`);
  return shard.ShardId;
}

async function iterator(name, type, extra = {}, shardId = 'shardId-000000000000') {
  const response = await send(new GetShardIteratorCommand({ StreamName: name, ShardId: shardId, ShardIteratorType: type, ...extra }));
  return response.ShardIterator;
}

/** Every record from an iterator to the shard's tip, at most 50 GetRecords calls. */
async function readAll(name, type = 'TRIM_HORIZON', extra = {}, shardId = 'shardId-000000000000', limit = undefined) {
  let it = await iterator(name, type, extra, shardId);
  const records = [];
  for (let i = 0; i < 50; i += 1) {
    const page = await send(new GetRecordsCommand({ ShardIterator: it, Limit: limit }));
    records.push(...page.Records);
    it = page.NextShardIterator;
    if (page.Records.length === 0 || !it) return records;
  }
  throw new Error('shard did not reach its tip within 50 GetRecords calls');
}

/** Runs an SDK call that must fail: checks the error's class, name, message (string or RegExp) and status. */
async function rejects(promise, errorClass, message) {
  let error;
  try {
    await promise;
  } catch (caught) {
    error = caught;
  }
  assert.ok(error, `expected ${errorClass.name}, but the call succeeded`);
  assert.equal(error.name, errorClass.name, `error was ${error.name}: ${error.message}`);
  assert.ok(error instanceof errorClass, `error is not an instance of ${errorClass.name}`);
  if (message instanceof RegExp) assert.match(error.message, message);
  else if (message !== undefined) assert.equal(error.message, message);
  assert.equal(error.$metadata.httpStatusCode, 400);
  assert.equal(error.$fault, 'client');
  return error;
}

test('sdk: the default request handler is NodeHttp2Handler and the wire is h2c', async () => {
  const client = newClient();
  assert.equal(client.config.requestHandler.constructor.name, 'NodeHttp2Handler');
  const seen = addTransportProbe(client);
  const response = await client.send(new ListStreamsCommand({ Limit: 1 }));
  assert.ok(Array.isArray(response.StreamNames));
  assert.deepEqual(seen, [{ stream: 'ClientHttp2Stream', protocol: 'h2c' }]);
  client.destroy();
});

test('sdk: many concurrent requests multiplexed on one HTTP/2 connection', async () => {
  const name = await createStream('h2concurrent');
  const puts = await Promise.all(Array.from({ length: 60 }, (_, i) =>
    send(new PutRecordCommand({ StreamName: name, PartitionKey: `k${i}`, Data: bytes(`v${i}`) }))));
  assert.equal(new Set(puts.map((p) => p.SequenceNumber)).size, 60);
  const stored = await readAll(name);
  assert.deepEqual(stored.map((r) => r.SequenceNumber), puts.map((p) => p.SequenceNumber).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
  const bySequence = new Map(puts.map((p, i) => [p.SequenceNumber, `v${i}`]));
  for (const record of stored) assert.equal(text(record.Data), bySequence.get(record.SequenceNumber));
});

test('sdk: create with ShardCount, wait, describe', async () => {
  const started = Date.now();
  const name = await createStream('create', { ShardCount: 3 });
  const { StreamDescription: d } = await send(new DescribeStreamCommand({ StreamName: name }));
  assert.equal(d.StreamName, name);
  assert.equal(d.StreamARN, streamArn(name));
  assert.equal(d.StreamStatus, 'ACTIVE');
  assert.deepEqual(d.StreamModeDetails, { StreamMode: 'PROVISIONED' });
  assert.equal(d.RetentionPeriodHours, 24);
  assert.deepEqual(d.EnhancedMonitoring, [{ ShardLevelMetrics: [] }]);
  assert.equal(d.EncryptionType, 'NONE');
  assert.equal(d.HasMoreShards, false);
  assert.ok(d.StreamCreationTimestamp instanceof Date);
  assert.ok(Math.abs(d.StreamCreationTimestamp.getTime() - started) < 10_000);
  assert.deepEqual(d.Shards.map((s) => s.ShardId), ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002']);
  assert.equal(d.Shards[1].HashKeyRange.StartingHashKey, '113427455640312821154458202477256070485');
  assert.equal(d.Shards[2].HashKeyRange.EndingHashKey, (HASH_KEY_SPACE - 1n).toString());
  for (const shard of d.Shards) assert.equal(shard.SequenceNumberRange.EndingSequenceNumber, undefined);
});

test('sdk: create without ShardCount and ON_DEMAND', async () => {
  const plain = await createStream('noshards', {});
  assert.equal((await shards(plain)).length, 4);
  const onDemand = await createStream('ondemand', { StreamModeDetails: { StreamMode: 'ON_DEMAND' } });
  const { StreamDescriptionSummary: s } = await send(new DescribeStreamSummaryCommand({ StreamName: onDemand }));
  assert.deepEqual(s.StreamModeDetails, { StreamMode: 'ON_DEMAND' });
  assert.equal(s.OpenShardCount, 4);
});

test('sdk: create with Tags', async () => {
  const name = await createStream('tagged', { ShardCount: 1, Tags: { team: 'data', env: 'test' } });
  const tags = await send(new ListTagsForStreamCommand({ StreamName: name }));
  assert.deepEqual(tags.Tags, [{ Key: 'env', Value: 'test' }, { Key: 'team', Value: 'data' }]);
  assert.equal(tags.HasMoreTags, false);
});

test('sdk: create twice is ResourceInUseException', async () => {
  const name = await createStream('twice');
  await rejects(send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 })), ResourceInUseException,
    `Stream ${name} under account ${ACCOUNT} already exists.`);
});

test('sdk: put routes partition keys by MD5 and ExplicitHashKey overrides it', async () => {
  const name = await createStream('route', { ShardCount: 4 });
  const shardList = await shards(name);
  for (let i = 0; i < 24; i += 1) {
    const key = `partition-${i}-ü`;
    const put = await send(new PutRecordCommand({ StreamName: name, PartitionKey: key, Data: bytes('x') }));
    assert.equal(put.ShardId, shardFor(shardList, md5HashKey(key)), `partition key ${key}`);
    assert.match(put.SequenceNumber, /^(0|[1-9]\d{0,128})$/);
  }
  for (const shard of shardList) {
    const put = await send(new PutRecordCommand({ StreamName: name, PartitionKey: 'same', Data: bytes('x'), ExplicitHashKey: shard.HashKeyRange.EndingHashKey }));
    assert.equal(put.ShardId, shard.ShardId);
  }
});

test('sdk: DryRun on PutRecord, PutRecords, GetShardIterator and GetRecords writes and reads nothing', async () => {
  const name = await createStream('dryrun');
  const isDry = (error) => error instanceof DryRunOperationException && error.$metadata.httpStatusCode === 400;
  await assert.rejects(send(new PutRecordCommand({ StreamName: name, PartitionKey: 'k', Data: bytes('x'), DryRun: true })), isDry);
  await assert.rejects(send(new PutRecordsCommand({ StreamName: name, Records: [{ PartitionKey: 'k', Data: bytes('x') }], DryRun: true })), isDry);
  await assert.rejects(send(new GetShardIteratorCommand({ StreamName: name, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON', DryRun: true })), isDry);
  const { ShardIterator } = await send(new GetShardIteratorCommand({ StreamName: name, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
  await assert.rejects(send(new GetRecordsCommand({ ShardIterator, DryRun: true })), isDry);
  assert.equal((await send(new GetRecordsCommand({ ShardIterator }))).Records.length, 0, 'a dry put stored a record');
});

test('sdk: sequence numbers strictly increase within a shard', async () => {
  const name = await createStream('seq');
  let previous = -1n;
  for (let i = 0; i < 20; i += 1) {
    const { SequenceNumber } = await send(new PutRecordCommand({ StreamName: name, PartitionKey: 'k', Data: bytes(`${i}`) }));
    assert.ok(BigInt(SequenceNumber) > previous, `${SequenceNumber} after ${previous}`);
    previous = BigInt(SequenceNumber);
  }
});

test('sdk: put batch of 500 keeps request order', async () => {
  const name = await createStream('batch', { ShardCount: 3 });
  const shardList = await shards(name);
  const records = Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `key-${i}`, Data: bytes(`value-${i}`) }));
  const response = await send(new PutRecordsCommand({ StreamName: name, Records: records }));
  assert.equal(response.FailedRecordCount, 0);
  assert.equal(response.Records.length, 500);
  response.Records.forEach((result, i) => {
    assert.equal(result.ErrorCode, undefined);
    assert.equal(result.ShardId, shardFor(shardList, md5HashKey(`key-${i}`)), `record ${i}`);
  });
  const index = new Map(response.Records.map((r, i) => [r.SequenceNumber, i]));
  let total = 0;
  for (const shard of shardList) {
    const stored = await readAll(name, 'TRIM_HORIZON', {}, shard.ShardId);
    total += stored.length;
    const order = stored.map((r) => index.get(r.SequenceNumber));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'records of one shard keep request order');
    for (const record of stored) assert.equal(text(record.Data), `value-${index.get(record.SequenceNumber)}`);
  }
  assert.equal(total, 500);
});

test('sdk: one GetRecords answer of 3,000 records, streamed over HTTP/2, reads whole and in order', async () => {
  // About 800 KB of JSON: Runnel writes an answer this large into the HTTP/2 stream as it produces it (no
  // Content-Length), where HTTP/1.1 gets it buffered; NodeHttp2Handler must see every record.
  const name = await createStream('streamed');
  const sequences = [];
  for (let batch = 0; batch < 6; batch += 1) {
    const records = Array.from({ length: 500 }, (_, i) => ({ PartitionKey: `key-${batch * 500 + i}`, Data: bytes(`value-${batch * 500 + i}-${'x'.repeat(80)}`) }));
    const response = await send(new PutRecordsCommand({ StreamName: name, Records: records }));
    assert.equal(response.FailedRecordCount, 0);
    sequences.push(...response.Records.map((r) => r.SequenceNumber));
  }
  const page = await send(new GetRecordsCommand({ ShardIterator: await iterator(name, 'TRIM_HORIZON'), Limit: 10000 }));
  assert.equal(page.Records.length, 3000);
  assert.deepEqual(page.Records.map((r) => r.SequenceNumber), sequences);
  page.Records.forEach((record, i) => {
    assert.equal(text(record.Data), `value-${i}-${'x'.repeat(80)}`);
    assert.equal(record.PartitionKey, `key-${i}`);
  });
  assert.ok(page.NextShardIterator);
  assert.equal(page.MillisBehindLatest, 0);
});

test('sdk: every iterator type reads the exact records', async () => {
  const name = await createStream('iterators');
  const sequences = [];
  for (let i = 0; i < 5; i += 1) {
    sequences.push((await send(new PutRecordCommand({ StreamName: name, PartitionKey: `pk${i}`, Data: bytes(`r${i}`) }))).SequenceNumber);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const all = await readAll(name);
  assert.deepEqual(all.map((r) => text(r.Data)), ['r0', 'r1', 'r2', 'r3', 'r4']);
  assert.deepEqual(all.map((r) => r.SequenceNumber), sequences);
  assert.deepEqual(all.map((r) => r.PartitionKey), ['pk0', 'pk1', 'pk2', 'pk3', 'pk4']);
  assert.deepEqual((await readAll(name, 'AT_SEQUENCE_NUMBER', { StartingSequenceNumber: sequences[2] })).map((r) => text(r.Data)), ['r2', 'r3', 'r4']);
  assert.deepEqual((await readAll(name, 'AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: sequences[2] })).map((r) => text(r.Data)), ['r3', 'r4']);
  // The SDK sends Date timestamps as epoch seconds with a millisecond fraction.
  const at = all[3].ApproximateArrivalTimestamp;
  assert.ok(at instanceof Date);
  assert.deepEqual((await readAll(name, 'AT_TIMESTAMP', { Timestamp: at })).map((r) => text(r.Data)), ['r3', 'r4']);
  assert.deepEqual((await readAll(name, 'AT_TIMESTAMP', { Timestamp: new Date(at.getTime() + 1) })).map((r) => text(r.Data)), ['r4']);
  const latest = await iterator(name, 'LATEST');
  const empty = await send(new GetRecordsCommand({ ShardIterator: latest }));
  assert.deepEqual(empty.Records, []);
  assert.equal(empty.MillisBehindLatest, 0);
  await send(new PutRecordCommand({ StreamName: name, PartitionKey: 'pk5', Data: bytes('r5') }));
  const next = await send(new GetRecordsCommand({ ShardIterator: empty.NextShardIterator }));
  assert.deepEqual(next.Records.map((r) => text(r.Data)), ['r5']);
});

test('sdk: get records data as Uint8Array, byte-exact, empty and 1 MiB', async () => {
  const name = await createStream('binary');
  const payloads = [new Uint8Array(0), Uint8Array.from({ length: 256 }, (_, i) => i), new Uint8Array(randomBytes(1048576))];
  for (const data of payloads) await send(new PutRecordCommand({ StreamName: name, PartitionKey: 'k', Data: data }));
  const stored = await readAll(name, 'TRIM_HORIZON', {}, 'shardId-000000000000', 2);
  assert.equal(stored.length, 3);
  stored.forEach((record, i) => {
    assert.ok(record.Data instanceof Uint8Array, `record ${i} Data is a Uint8Array`);
    assert.equal(record.Data.length, payloads[i].length, `record ${i} length`);
    assert.ok(Buffer.from(record.Data).equals(Buffer.from(payloads[i])), `record ${i} bytes`);
    assert.ok(record.ApproximateArrivalTimestamp instanceof Date);
    assert.ok(Math.abs(record.ApproximateArrivalTimestamp.getTime() - Date.now()) < 30_000);
  });
});

test('sdk: GetRecords Limit and NextShardIterator chaining', async () => {
  const name = await createStream('chain');
  await send(new PutRecordsCommand({ StreamName: name, Records: [0, 1, 2, 3, 4].map((i) => ({ PartitionKey: 'k', Data: bytes(`${i}`) })) }));
  let it = await iterator(name, 'TRIM_HORIZON');
  const pages = [];
  for (let i = 0; i < 4; i += 1) {
    const page = await send(new GetRecordsCommand({ ShardIterator: it, Limit: 2 }));
    assert.equal(typeof page.MillisBehindLatest, 'number');
    pages.push(page.Records.map((r) => text(r.Data)));
    it = page.NextShardIterator;
    assert.ok(it, 'an open shard always gives a NextShardIterator');
  }
  assert.deepEqual(pages, [['0', '1'], ['2', '3'], ['4'], []]);
});

test('sdk: ListStreams pagination with Limit, ExclusiveStartStreamName and NextToken', async () => {
  const base = uniqueName('ls');
  const names = ['a', 'b', 'c'].map((c) => `${base}-${c}`);
  try {
    for (const n of names) await send(new CreateStreamCommand({ StreamName: n, ShardCount: 1 }));
    const first = await send(new ListStreamsCommand({ Limit: 2, ExclusiveStartStreamName: base }));
    assert.deepEqual(first.StreamNames, names.slice(0, 2));
    assert.equal(first.HasMoreStreams, true);
    assert.ok(first.NextToken);
    assert.deepEqual(first.StreamSummaries.map((s) => s.StreamName), names.slice(0, 2));
    assert.equal(first.StreamSummaries[0].StreamARN, streamArn(names[0]));
    assert.ok(first.StreamSummaries[0].StreamCreationTimestamp instanceof Date);
    const second = await send(new ListStreamsCommand({ Limit: 2, NextToken: first.NextToken }));
    assert.equal(second.StreamNames[0], names[2]);
  } finally {
    for (const n of names) await send(new DeleteStreamCommand({ StreamName: n })).catch(() => {});
  }
});

test('sdk: ListShards paging with MaxResults and NextToken, and ShardFilter', async () => {
  const name = await createStream('shards', { ShardCount: 5 });
  const ids = [];
  let page = await send(new ListShardsCommand({ StreamName: name, MaxResults: 2 }));
  const firstToken = page.NextToken;
  for (let i = 0; i < 10; i += 1) {
    ids.push(...page.Shards.map((s) => s.ShardId));
    if (!page.NextToken) break;
    page = await send(new ListShardsCommand({ NextToken: page.NextToken, MaxResults: 2 }));
  }
  assert.deepEqual(ids, [0, 1, 2, 3, 4].map((i) => `shardId-00000000000${i}`));
  const after = await send(new ListShardsCommand({ StreamName: name, ShardFilter: { Type: 'AFTER_SHARD_ID', ShardId: 'shardId-000000000002' } }));
  assert.deepEqual(after.Shards.map((s) => s.ShardId), ['shardId-000000000003', 'shardId-000000000004']);
  const atTime = await send(new ListShardsCommand({ StreamName: name, ShardFilter: { Type: 'AT_TIMESTAMP', Timestamp: new Date() } }));
  assert.equal(atTime.Shards.length, 5);
  await rejects(send(new ListShardsCommand({ NextToken: firstToken, StreamName: name })), InvalidArgumentException,
    'NextToken and StreamName cannot be provided together.');
});

test('sdk: tags through the stream and the resource APIs', async () => {
  const name = await createStream('tags');
  await send(new AddTagsToStreamCommand({ StreamName: name, Tags: { b: '2', a: '1', c: '' } }));
  const page = await send(new ListTagsForStreamCommand({ StreamName: name, ExclusiveStartTagKey: 'a', Limit: 1 }));
  assert.deepEqual([page.Tags, page.HasMoreTags], [[{ Key: 'b', Value: '2' }], true]);
  await send(new RemoveTagsFromStreamCommand({ StreamName: name, TagKeys: ['a'] }));
  await send(new TagResourceCommand({ ResourceARN: streamArn(name), Tags: { owner: 'js' } }));
  const all = await send(new ListTagsForResourceCommand({ ResourceARN: streamArn(name) }));
  assert.deepEqual(all.Tags, [{ Key: 'b', Value: '2' }, { Key: 'c', Value: '' }, { Key: 'owner', Value: 'js' }]);
  await send(new UntagResourceCommand({ ResourceARN: streamArn(name), TagKeys: ['b', 'owner'] }));
  assert.deepEqual((await send(new ListTagsForStreamCommand({ StreamName: name }))).Tags, [{ Key: 'c', Value: '' }]);
});

test('sdk: StreamARN in place of StreamName, retention, monitoring, limits', async () => {
  const name = await createStream('arn');
  const arn = streamArn(name);
  const put = await send(new PutRecordCommand({ StreamARN: arn, PartitionKey: 'k', Data: bytes('by-arn') }));
  const it = (await send(new GetShardIteratorCommand({ StreamARN: arn, ShardId: put.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  assert.equal(text((await send(new GetRecordsCommand({ ShardIterator: it, StreamARN: arn }))).Records[0].Data), 'by-arn');
  // A retention change may leave the stream UPDATING for a while, as on AWS: wait for ACTIVE after each.
  const active = () => waitUntilStreamExists({ client: kinesis, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamARN: arn });
  await send(new IncreaseStreamRetentionPeriodCommand({ StreamARN: arn, RetentionPeriodHours: 72 }));
  await active();
  await send(new DecreaseStreamRetentionPeriodCommand({ StreamARN: arn, RetentionPeriodHours: 48 }));
  await active();
  assert.equal((await send(new DescribeStreamSummaryCommand({ StreamARN: arn }))).StreamDescriptionSummary.RetentionPeriodHours, 48);
  const enabled = await send(new EnableEnhancedMonitoringCommand({ StreamARN: arn, ShardLevelMetrics: ['ALL'] }));
  assert.equal(enabled.DesiredShardLevelMetrics.length, 7);
  const disabled = await send(new DisableEnhancedMonitoringCommand({ StreamARN: arn, ShardLevelMetrics: ['ALL'] }));
  assert.deepEqual(disabled.DesiredShardLevelMetrics, []);
  const limits = await send(new DescribeLimitsCommand({}));
  for (const key of ['ShardLimit', 'OpenShardCount', 'OnDemandStreamCount', 'OnDemandStreamCountLimit']) assert.equal(typeof limits[key], 'number', key);
  await send(new DeleteStreamCommand({ StreamARN: arn }));
  await waitUntilStreamNotExists({ client: kinesis, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: name });
});

test('sdk: errors carry AWS names and messages', async () => {
  const missing = uniqueName('missing');
  await rejects(send(new DescribeStreamSummaryCommand({ StreamName: missing })), ResourceNotFoundException, notFound(missing));
  await rejects(send(new PutRecordCommand({ StreamName: missing, PartitionKey: 'k', Data: bytes('x') })), ResourceNotFoundException, notFound(missing));
  await rejects(send(new GetShardIteratorCommand({ StreamName: missing, ShardId: 'shardId-000000000000', ShardIteratorType: 'LATEST' })),
    ResourceNotFoundException, `Shard shardId-000000000000 in stream ${missing} under account ${ACCOUNT} does not exist`);
  await rejects(send(new CreateStreamCommand({ StreamName: '', ShardCount: 1 })), ValidationException,
    "2 validation errors detected: Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
    + "[a-zA-Z0-9_.-]+; Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1");
  await rejects(send(new GetRecordsCommand({ ShardIterator: 'A'.repeat(200) })), InvalidArgumentException, 'Invalid ShardIterator.');
  const name = await createStream('errors');
  await rejects(iterator(name, 'AT_SEQUENCE_NUMBER'), InvalidArgumentException, `${EITHER_OR} Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.`);
  await rejects(iterator(name, 'AT_TIMESTAMP'), InvalidArgumentException,
    'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.');
  await rejects(send(new PutRecordCommand({ StreamName: name, PartitionKey: 'k', Data: bytes('x'), ExplicitHashKey: HASH_KEY_SPACE.toString() })),
    InvalidArgumentException, `Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was ${HASH_KEY_SPACE}`);
  await rejects(send(new IncreaseStreamRetentionPeriodCommand({ StreamName: name, RetentionPeriodHours: 9000 })), InvalidArgumentException,
    'Maximum allowed retention period is 8760 hours. Requested retention period (9000 hours) is too long.');
});
