// Raw CBOR requests (application/x-amz-cbor-1.1, the Java SDK's and the KCL's default), encoded and
// decoded with the npm `cbor` package, not with Runnel's codec. Blobs are byte strings; timestamps go
// out as tag 1 around epoch MILLISECONDS, as the Java SDK sends them, and come back the same way.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import cbor from 'cbor';
import { ACCOUNT, CBOR_TYPE, DUMMY_AUTH, ENDPOINT, TARGET, notFound, rawRequest, streamArn, test, uniqueName, waitFor } from './harness.js';

/** Marks a tag-1 value on decoding, so tests can tell a tagged timestamp from a bare number. */
class Tag1 {
  constructor(value) {
    this.value = value;
  }
}

/** Decodes a response body; tag 1 gives the raw number (npm cbor would read it as seconds into a Date). */
function decode(body, { markTag1 = false } = {}) {
  return cbor.decodeFirstSync(body, { tags: { 1: (value) => (markTag1 ? new Tag1(value) : value) } });
}

/** Wraps a value so the npm encoder writes it with indefinite length, as Jackson's CBORGenerator does. */
class Indefinite {
  constructor(value, chunkSize = 4096) {
    this.value = value;
    this.chunkSize = chunkSize;
  }

  encodeCBOR(gen) {
    const value = this.value;
    const inner = Array.isArray(value) || Buffer.isBuffer(value) || typeof value === 'string' || value instanceof Map
      ? value
      : new Map(Object.entries(value));
    return cbor.Encoder.encodeIndefinite(gen, inner, { chunkSize: this.chunkSize });
  }
}

/** A Java-SDK-style timestamp: tag 1 followed by an integer of epoch milliseconds. */
const javaTimestamp = (millis) => new cbor.Tagged(1, millis);

async function call(operation, payload, options = {}) {
  const body = Buffer.isBuffer(payload) ? payload : cbor.encode(payload);
  const response = await rawRequest(operation, body, { contentType: CBOR_TYPE, ...options });
  const decoded = response.body.length ? decode(response.body, options) : null;
  return { ...response, contentType: response.headers.get('content-type'), value: decoded };
}

async function ok(operation, payload, options) {
  const response = await call(operation, payload, options);
  assert.equal(response.status, 200, `${operation}: ${response.status} ${JSON.stringify(response.value)}`);
  assert.equal(response.contentType, CBOR_TYPE, `${operation} response Content-Type`);
  return response.value;
}

async function error(operation, payload, type, message, options) {
  const response = await call(operation, payload, options);
  assert.equal(response.status, 400, `${operation}: expected 400, got ${response.status}`);
  assert.equal(response.contentType, CBOR_TYPE, 'error Content-Type');
  assert.equal(typeof response.value, 'object', 'error body is a CBOR map');
  assert.equal(response.value.__type, type, JSON.stringify(response.value));
  if (message === undefined) assert.deepEqual(Object.keys(response.value), ['__type']);
  else assert.equal(response.value.message, message);
  return response.value;
}

async function createStream(tag, shardCount = 1) {
  const name = uniqueName(tag);
  const created = await call('CreateStream', { StreamName: name, ShardCount: shardCount });
  assert.equal(created.status, 200, JSON.stringify(created.value));
  assert.equal(created.body.length, 0, 'CreateStream answers an empty body');
  await waitFor(async () => (await ok('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.StreamStatus === 'ACTIVE',
    `stream ${name} to become ACTIVE`);
  return name;
}

async function iterator(name, type, extra = {}, shardId = 'shardId-000000000000') {
  return (await ok('GetShardIterator', { StreamName: name, ShardId: shardId, ShardIteratorType: type, ...extra })).ShardIterator;
}

async function records(it, options) {
  return (await ok('GetRecords', { ShardIterator: it }, options)).Records;
}

test('cbor: create and describe; booleans, integers and timestamps are native CBOR', async () => {
  const started = Date.now();
  const name = await createStream('describe', 2);
  const { StreamDescription: d } = await ok('DescribeStream', { StreamName: name }, { markTag1: true });
  assert.equal(d.StreamName, name);
  assert.equal(d.StreamARN, streamArn(name));
  assert.equal(d.HasMoreShards, false);
  assert.equal(d.RetentionPeriodHours, 24);
  assert.equal(d.Shards.length, 2);
  assert.equal(typeof d.Shards[1].HashKeyRange.StartingHashKey, 'string', 'big numbers stay text strings');
  assert.equal(typeof d.Shards[0].SequenceNumberRange.StartingSequenceNumber, 'string');
  const created = d.StreamCreationTimestamp instanceof Tag1 ? d.StreamCreationTimestamp.value : d.StreamCreationTimestamp;
  assert.ok(Number.isInteger(created), `StreamCreationTimestamp ${created} is an integer`);
  assert.ok(Math.abs(created - started) < 10_000, `StreamCreationTimestamp ${created} is epoch milliseconds near ${started}`);
});

test('cbor: Java-SDK-style indefinite-length maps and arrays', async () => {
  const name = await createStream('indefinite');
  const request = new Indefinite({
    StreamName: name,
    Records: new Indefinite([0, 1, 2].map((i) => new Indefinite({ PartitionKey: `k${i}`, Data: Buffer.from([i, 0, 255]) }))),
  });
  const body = cbor.encode(request);
  assert.equal(body[0], 0xbf, 'the request really is an indefinite-length map');
  const put = await ok('PutRecords', body);
  assert.equal(put.FailedRecordCount, 0);
  assert.equal(put.Records.length, 3);
  const stored = await records(await iterator(name, 'TRIM_HORIZON'));
  assert.deepEqual(stored.map((r) => [r.PartitionKey, [...r.Data]]), [['k0', [0, 0, 255]], ['k1', [1, 0, 255]], ['k2', [2, 0, 255]]]);
});

test('cbor: chunked (indefinite) text and byte strings', async () => {
  const name = await createStream('chunked');
  const data = randomBytes(100);
  const body = cbor.encode(new Indefinite({ StreamName: name, PartitionKey: new Indefinite('a-partition-key', 3), Data: new Indefinite(data, 7) }));
  const put = await ok('PutRecord', body);
  assert.equal(put.ShardId, 'shardId-000000000000');
  const [record] = await records(await iterator(name, 'AT_SEQUENCE_NUMBER', { StartingSequenceNumber: put.SequenceNumber }));
  assert.equal(record.PartitionKey, 'a-partition-key');
  assert.ok(data.equals(record.Data));
});

test('cbor: Data goes both ways as a byte string, byte-exact (empty, binary, 1 MiB)', async () => {
  const name = await createStream('binary');
  const payloads = [Buffer.alloc(0), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(1048576)];
  const sequences = [];
  for (const data of payloads) {
    const put = await ok('PutRecord', { StreamName: name, PartitionKey: 'k', Data: data });
    assert.equal(typeof put.SequenceNumber, 'string');
    sequences.push(put.SequenceNumber);
  }
  const response = await call('GetRecords', { ShardIterator: await iterator(name, 'TRIM_HORIZON') });
  assert.equal(response.contentType, CBOR_TYPE);
  const stored = response.value.Records;
  assert.deepEqual(stored.map((r) => r.SequenceNumber), sequences);
  stored.forEach((record, i) => {
    assert.ok(Buffer.isBuffer(record.Data), `record ${i}: Data is a CBOR byte string, got ${typeof record.Data}`);
    assert.ok(record.Data.equals(payloads[i]), `record ${i}: bytes differ`);
  });
  assert.equal(typeof response.value.MillisBehindLatest, 'number');
  assert.equal(typeof response.value.NextShardIterator, 'string');
});

test('cbor: ApproximateArrivalTimestamp is tag 1 + integer epoch milliseconds', async () => {
  const name = await createStream('arrival');
  const before = Date.now();
  await ok('PutRecord', { StreamName: name, PartitionKey: 'k', Data: Buffer.from('x') });
  const after = Date.now();
  const [record] = await records(await iterator(name, 'TRIM_HORIZON'), { markTag1: true });
  assert.ok(record.ApproximateArrivalTimestamp instanceof Tag1, `not tagged with tag 1: ${record.ApproximateArrivalTimestamp}`);
  const millis = record.ApproximateArrivalTimestamp.value;
  assert.ok(Number.isInteger(millis), `${millis} is an integer`);
  assert.ok(millis >= before - 1000 && millis <= after + 1000, `${millis} is epoch milliseconds between ${before} and ${after}`);
});

/** Five records r0..r4 a few milliseconds apart; returns a reader of AT_TIMESTAMP and r3's arrival time. */
async function timedRecords(tag) {
  const name = await createStream(tag);
  for (let i = 0; i < 5; i += 1) {
    await ok('PutRecord', { StreamName: name, PartitionKey: 'k', Data: Buffer.from(`r${i}`) });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const all = await records(await iterator(name, 'TRIM_HORIZON'));
  const read = async (timestamp) => (await records(await iterator(name, 'AT_TIMESTAMP', { Timestamp: timestamp }))).map((r) => r.Data.toString());
  return { name, read, arrival: all[3].ApproximateArrivalTimestamp };
}

test('cbor: AT_TIMESTAMP takes tag 1 + epoch milliseconds', async () => {
  const { name, read, arrival } = await timedRecords('attime');
  assert.deepEqual(await read(javaTimestamp(arrival)), ['r3', 'r4'], 'tag 1 + the arrival millisecond');
  assert.deepEqual(await read(javaTimestamp(arrival + 1)), ['r4'], 'tag 1 + one millisecond later');
  assert.deepEqual(await read(javaTimestamp(arrival - 3_600_000)), ['r0', 'r1', 'r2', 'r3', 'r4'], 'an hour earlier');
  await error('GetShardIterator', { StreamName: name, ShardId: 'shardId-000000000000', ShardIteratorType: 'AT_TIMESTAMP' },
    'InvalidArgumentException', 'Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.');
});

test('cbor: AT_TIMESTAMP takes an untagged integer of epoch milliseconds', async () => {
  // Fact sheet 7.2: CBOR timestamps are milliseconds, tagged or not (kinesis-mock accepts both).
  const { read, arrival } = await timedRecords('attimebare');
  assert.deepEqual(await read(arrival), ['r3', 'r4'], 'untagged integer milliseconds');
  assert.deepEqual(await read(arrival + 1), ['r4'], 'one millisecond later');
});

test('cbor: sequence-number iterators and NextShardIterator chaining', async () => {
  const name = await createStream('chain');
  const put = await ok('PutRecords', { StreamName: name, Records: [0, 1, 2, 3].map((i) => ({ PartitionKey: 'k', Data: Buffer.from(`${i}`) })) });
  const sequences = put.Records.map((r) => r.SequenceNumber);
  assert.deepEqual((await records(await iterator(name, 'AFTER_SEQUENCE_NUMBER', { StartingSequenceNumber: sequences[1] }))).map((r) => r.Data.toString()), ['2', '3']);
  let it = await iterator(name, 'AT_SEQUENCE_NUMBER', { StartingSequenceNumber: sequences[1] });
  const pages = [];
  for (let i = 0; i < 3; i += 1) {
    const page = await ok('GetRecords', { ShardIterator: it, Limit: 2 });
    pages.push(page.Records.map((r) => r.Data.toString()));
    it = page.NextShardIterator;
  }
  assert.deepEqual(pages, [['1', '2'], ['3'], []]);
});

test('cbor: errors are CBOR maps with __type and message', async () => {
  const missing = uniqueName('missing');
  await error('DescribeStreamSummary', { StreamName: missing }, 'ResourceNotFoundException', notFound(missing));
  await error('PutRecord', { StreamName: missing, PartitionKey: 'k', Data: Buffer.from('x') }, 'ResourceNotFoundException', notFound(missing));
  await error('CreateStream', { StreamName: '', ShardCount: 1 }, 'ValidationException',
    "2 validation errors detected: Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: "
    + "[a-zA-Z0-9_.-]+; Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1");
  await error('GetRecords', { ShardIterator: 'A'.repeat(200) }, 'InvalidArgumentException', 'Invalid ShardIterator.');
  const created = await createStream('errors');
  // A stream's record size limit (1 MiB unless UpdateMaxRecordSize raised it) is checked once the stream
  // is found (docs/compatibility.md), with AWS's validation message.
  await error('PutRecord', { StreamName: created, PartitionKey: 'k', Data: Buffer.alloc(1048577) }, 'ValidationException',
    "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'data' failed to satisfy constraint: "
    + 'Member must have length less than or equal to 1048576');
  await error('CreateStream', { StreamName: created, ShardCount: 1 }, 'ResourceInUseException', `Stream ${created} under account ${ACCOUNT} already exists.`);
});

test('cbor: type mismatches are SerializationException with a capital-M Message', async () => {
  const response = await call('CreateStream', { StreamName: uniqueName('types'), ShardCount: 'one' });
  assert.equal(response.status, 400);
  assert.equal(response.contentType, CBOR_TYPE);
  assert.deepEqual(response.value, { __type: 'SerializationException', Message: 'class java.lang.String can not be converted to an Integer' });
});

test('cbor: pipeline errors in CBOR (undecodable body, unknown operation, no auth)', async () => {
  for (const body of [Buffer.from([0xbf]), Buffer.from([0x63, 0x61]), Buffer.from([0x01]), cbor.encode('text'), cbor.encode(null)]) {
    await error('ListStreams', body, 'SerializationException', undefined);
  }
  // A top-level array: Coral adds a message here (fact sheet 1.4 step 7), so only the type is checked.
  assert.equal((await call('ListStreams', cbor.encode([1, 2]))).value.__type, 'SerializationException');
  await error('ListStream', {}, 'UnknownOperationException', undefined);
  await error('ListStreams', {}, 'MissingAuthenticationTokenException', 'Missing Authentication Token', { auth: false });
});

test('cbor: requests over cleartext HTTP/2 (prior knowledge) as well', async () => {
  const name = await createStream('h2');
  const session = http2.connect(ENDPOINT);
  try {
    const request = (operation, payload) => new Promise((resolve, reject) => {
      const stream = session.request({
        ':method': 'POST', ':path': '/', 'content-type': CBOR_TYPE, 'x-amz-target': TARGET + operation,
        authorization: DUMMY_AUTH.Authorization, 'x-amz-date': DUMMY_AUTH['X-Amz-Date'],
      });
      const chunks = [];
      let headers;
      stream.on('response', (h) => { headers = h; });
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('end', () => resolve({ headers, body: Buffer.concat(chunks) }));
      stream.on('error', reject);
      stream.setTimeout(10_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
      stream.end(cbor.encode(payload));
    });
    const put = await request('PutRecord', new Indefinite({ StreamName: name, PartitionKey: 'k', Data: Buffer.from([0, 1, 2]) }));
    assert.equal(put.headers[':status'], 200);
    assert.equal(put.headers['content-type'], CBOR_TYPE);
    const missing = await request('DescribeStreamSummary', { StreamName: `${name}-missing` });
    assert.equal(missing.headers[':status'], 400);
    assert.deepEqual(decode(missing.body), { __type: 'ResourceNotFoundException', message: notFound(`${name}-missing`) });
  } finally {
    session.close();
  }
  const [record] = await records(await iterator(name, 'TRIM_HORIZON'));
  assert.deepEqual([...record.Data], [0, 1, 2]);
});

test('cbor: registered consumers, DryRun and StreamId through the foreign encoder', async () => {
  const name = await createStream('consumers');
  const arn = (await ok('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.StreamARN;
  const registered = (await ok('RegisterStreamConsumer', { StreamARN: arn, ConsumerName: 'cbor-app', Tags: { team: 'cbor' } }, { markTag1: true })).Consumer;
  assert.equal(registered.ConsumerName, 'cbor-app');
  assert.ok(registered.ConsumerCreationTimestamp instanceof Tag1, 'ConsumerCreationTimestamp is tag 1 + epoch milliseconds');
  assert.ok(registered.ConsumerARN.endsWith(`:${registered.ConsumerCreationTimestamp.value / 1000}`), 'the ARN carries the creation second');
  const described = (await ok('DescribeStreamConsumer', { ConsumerARN: registered.ConsumerARN })).ConsumerDescription;
  assert.equal(described.StreamARN, arn);
  assert.deepEqual((await ok('ListStreamConsumers', { StreamARN: arn })).Consumers.map((c) => c.ConsumerARN), [registered.ConsumerARN]);
  assert.deepEqual((await ok('ListTagsForResource', { ResourceARN: registered.ConsumerARN })).Tags, [{ Key: 'team', Value: 'cbor' }]);

  await error('PutRecord', { StreamName: name, PartitionKey: 'k', Data: Buffer.from('dry'), DryRun: true },
    'DryRunOperationException', 'Request would have succeeded, but DryRun flag is set.');
  assert.equal((await records(await iterator(name, 'TRIM_HORIZON'))).length, 0, 'a dry put stored a record');
  await error('DescribeStreamSummary', { StreamName: name, StreamId: 'not-an-id' }, 'ValidationException',
    "1 validation error detected: Value 'not-an-id' at 'streamId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9]{20}-[a-z0-9]{3}");

  const deregistered = await call('DeregisterStreamConsumer', { ConsumerARN: registered.ConsumerARN });
  assert.equal(deregistered.status, 200);
  assert.deepEqual((await ok('ListStreamConsumers', { StreamARN: arn })).Consumers, []);
});

test('cbor: resource policies, account settings and the record distribution strategy through the foreign encoder', async () => {
  const name = uniqueName('cbornew');
  assert.equal((await call('CreateStream', { StreamName: name, StreamModeDetails: { StreamMode: 'ON_DEMAND' }, RecordDistributionStrategy: 'AUTO' })).status, 200);
  await waitFor(async () => (await ok('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'the stream');
  const arn = streamArn(name);
  const policy = '{"Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:DescribeStreamSummary"}}';
  assert.equal((await call('PutResourcePolicy', { ResourceARN: arn, Policy: new Indefinite(policy, 7) })).status, 200);
  assert.deepEqual(await ok('GetResourcePolicy', { ResourceARN: arn }), { Policy: policy });
  assert.equal((await call('DeleteResourcePolicy', { ResourceARN: arn })).status, 200);
  assert.deepEqual(await ok('GetResourcePolicy', { ResourceARN: arn }), { Policy: '{}' });

  const settings = (await ok('DescribeAccountSettings', {}, { markTag1: true })).MinimumThroughputBillingCommitment;
  assert.ok(['DISABLED', 'ENABLED', 'ENABLED_UNTIL_EARLIEST_ALLOWED_END'].includes(settings.Status));
  for (const member of ['StartedAt', 'EndedAt', 'EarliestAllowedEndAt'])
    assert.ok(settings[member] === undefined || settings[member] instanceof Tag1, `${member} is tag 1 + epoch milliseconds`);
  await error('UpdateAccountSettings', { MinimumThroughputBillingCommitment: { Status: 'SOMETIMES' } }, 'ValidationException',
    "1 validation error detected: Value 'SOMETIMES' at 'minimumThroughputBillingCommitment.status' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]");

  const put = await ok('PutRecord', { StreamName: name, Data: Buffer.from('no key') });
  assert.match(put.SequenceNumber, /^\d{56}$/);
  assert.equal((await ok('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.RecordDistributionStrategy, 'AUTO');
  assert.equal((await call('UpdateStreamRecordDistributionStrategy', { StreamARN: arn, RecordDistributionStrategy: 'USER_PARTITION_KEY' })).status, 200);
  // One server refuses the next keyless record at once. Through a load balancer in front of a cluster, the record may
  // reach a node that applies the change a few milliseconds later (docs/compatibility.md, the cluster backend):
  // asked again until the answer is the refusal, which is then checked whole.
  await waitFor(async () => (await call('PutRecord', { StreamName: name, Data: Buffer.from('no key') })).status === 400, 'the change to reach the node');
  await error('PutRecord', { StreamName: name, Data: Buffer.from('no key') }, 'ValidationException',
    "1 validation error detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null");
  await error('UpdateStreamWarmThroughput', { StreamName: name, WarmThroughputMiBps: -1 }, 'ValidationException',
    "1 validation error detected: Value '-1' at 'warmThroughputMiBps' failed to satisfy constraint: Member must have value greater than or equal to 0");
});

test('cbor: every operation Runnel serves answers a foreign-encoded request in CBOR', async () => {
  const name = await createStream('cborall', 2);
  const arn = streamArn(name);
  const answered = new Set();
  const step = async (operation, payload, expectError) => {
    answered.add(operation);
    const response = await call(operation, payload);
    assert.equal(response.contentType, CBOR_TYPE, `${operation}: Content-Type`);
    if (expectError) {
      assert.equal(response.status, 400, `${operation}: ${response.status} ${JSON.stringify(response.value)}`);
      assert.equal(response.value.__type, expectError, `${operation}: ${JSON.stringify(response.value)}`);
    } else {
      assert.equal(response.status, 200, `${operation}: ${response.status} ${JSON.stringify(response.value)}`);
    }
    return response.value;
  };
  await step('DescribeStream', { StreamName: name });
  await step('DescribeStreamSummary', { StreamARN: arn });
  await step('ListStreams', { Limit: 1 });
  await step('ListShards', { StreamName: name });
  await step('DescribeLimits', {});
  await step('IncreaseStreamRetentionPeriod', { StreamName: name, RetentionPeriodHours: 48 });
  await step('DecreaseStreamRetentionPeriod', { StreamName: name, RetentionPeriodHours: 24 });
  await step('EnableEnhancedMonitoring', { StreamName: name, ShardLevelMetrics: ['IncomingBytes'] });
  await step('DisableEnhancedMonitoring', { StreamName: name, ShardLevelMetrics: ['IncomingBytes'] });
  await step('AddTagsToStream', { StreamName: name, Tags: { a: '1' } });
  await step('ListTagsForStream', { StreamName: name });
  await step('RemoveTagsFromStream', { StreamName: name, TagKeys: ['a'] });
  await step('TagResource', { ResourceARN: arn, Tags: { b: '2' } });
  await step('ListTagsForResource', { ResourceARN: arn });
  await step('UntagResource', { ResourceARN: arn, TagKeys: ['b'] });
  const put = await step('PutRecord', { StreamName: name, PartitionKey: 'k', Data: Buffer.from('one') });
  await step('PutRecords', { StreamName: name, Records: [{ PartitionKey: 'k', Data: Buffer.from('two') }] });
  const it = (await step('GetShardIterator', { StreamName: name, ShardId: put.ShardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: put.SequenceNumber })).ShardIterator;
  assert.deepEqual((await step('GetRecords', { ShardIterator: it })).Records.map((r) => r.Data.toString()).slice(0, 1), ['one']);
  await step('UpdateMaxRecordSize', { StreamARN: arn, MaxRecordSizeInKiB: 2048 });
  const consumer = (await step('RegisterStreamConsumer', { StreamARN: arn, ConsumerName: 'all' })).Consumer.ConsumerARN;
  await step('DescribeStreamConsumer', { ConsumerARN: consumer });
  await step('ListStreamConsumers', { StreamARN: arn });
  await step('SubscribeToShard', { ConsumerARN: consumer, ShardId: put.ShardId, StartingPosition: { Type: 'LATEST' }, DryRun: true }, 'DryRunOperationException');
  await step('PutResourcePolicy', { ResourceARN: consumer, Policy: '{"Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:SubscribeToShard"}}' });
  await step('GetResourcePolicy', { ResourceARN: consumer });
  await step('DeleteResourcePolicy', { ResourceARN: consumer });
  await step('DeregisterStreamConsumer', { ConsumerARN: consumer });
  await step('DescribeAccountSettings', {});
  // The commitment is account-wide: on this shared server only its validation is exercised.
  await step('UpdateAccountSettings', { MinimumThroughputBillingCommitment: {} }, 'ValidationException');
  await step('UpdateStreamWarmThroughput', { StreamName: name, WarmThroughputMiBps: 4 }, 'InvalidArgumentException');
  await step('UpdateStreamRecordDistributionStrategy', { StreamARN: arn, RecordDistributionStrategy: 'USER_PARTITION_KEY' });
  await step('SplitShard', { StreamName: name, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: '1000' });
  await waitFor(async () => (await ok('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'the split');
  await step('MergeShards', { StreamName: name, ShardToMerge: 'shardId-000000000002', AdjacentShardToMerge: 'shardId-000000000003' });
  await waitFor(async () => (await ok('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'the merge');
  await step('UpdateShardCount', { StreamName: name, TargetShardCount: 3, ScalingType: 'UNIFORM_SCALING' });
  await waitFor(async () => (await ok('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'the scaling');
  await step('UpdateStreamMode', { StreamARN: arn, StreamModeDetails: { StreamMode: 'ON_DEMAND' } });
  await waitFor(async () => (await ok('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'the mode change');
  await step('StartStreamEncryption', { StreamName: name, EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
  await waitFor(async () => (await ok('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'the encryption start');
  await step('StopStreamEncryption', { StreamName: name, EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
  await waitFor(async () => (await ok('DescribeStreamSummary', { StreamName: name })).StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'the encryption stop');
  await step('DeleteStream', { StreamName: name, EnforceConsumerDeletion: true });
  answered.add('CreateStream');
  assert.equal(answered.size, 40, `operations exercised: ${[...answered].sort().join(', ')}`);
});
