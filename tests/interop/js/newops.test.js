// The operations the current @aws-sdk/client-kinesis has that older SDKs lack (resource policies, account
// settings, warm throughput, the record distribution strategy), through the SDK's own commands and its
// default HTTP/2 transport. The account-wide commitment is tested on a server of its own.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStreamCommand, DeleteResourcePolicyCommand, DescribeAccountSettingsCommand, DescribeStreamSummaryCommand,
  GetRecordsCommand, GetResourcePolicyCommand, GetShardIteratorCommand, InvalidArgumentException, KinesisClient,
  PutRecordCommand, PutRecordsCommand, PutResourcePolicyCommand, RegisterStreamConsumerCommand, ResourceNotFoundException,
  UpdateAccountSettingsCommand, UpdateStreamRecordDistributionStrategyCommand, UpdateStreamWarmThroughputCommand,
  ValidationException, waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { ACCOUNT, ENDPOINT, REGION, notFound, streamArn, test, uniqueName, waitFor } from './harness.js';
import { spawnRunnel } from './server.js';

function newClient(endpoint = ENDPOINT) {
  return new KinesisClient({ endpoint, region: REGION, credentials: { accessKeyId: 'interop', secretAccessKey: 'interop' }, maxAttempts: 1 });
}

const kinesis = newClient();
const send = (command, client = kinesis) => client.send(command);
const bytes = (value) => new TextEncoder().encode(value);
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'read', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: ['kinesis:GetRecords'], Resource: '*' }],
});

async function createStream(tag, input, client = kinesis) {
  const name = uniqueName(tag);
  await send(new CreateStreamCommand({ StreamName: name, ...input }), client);
  await waitUntilStreamExists({ client, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { StreamName: name });
  return name;
}

async function summary(name, client = kinesis) {
  return (await send(new DescribeStreamSummaryCommand({ StreamName: name }), client)).StreamDescriptionSummary;
}

test('new operations: a resource policy on a stream and on a consumer is stored, returned and deleted', async () => {
  const name = await createStream('jspolicy', { ShardCount: 1 });
  const arn = streamArn(name);
  assert.equal((await send(new GetResourcePolicyCommand({ ResourceARN: arn }))).Policy, '{}');
  await send(new PutResourcePolicyCommand({ ResourceARN: arn, Policy: POLICY }));
  assert.equal((await send(new GetResourcePolicyCommand({ ResourceARN: arn }))).Policy, POLICY);
  const consumer = (await send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: 'reader' }))).Consumer.ConsumerARN;
  await send(new PutResourcePolicyCommand({ ResourceARN: consumer, Policy: POLICY }));
  assert.equal((await send(new GetResourcePolicyCommand({ ResourceARN: consumer }))).Policy, POLICY);
  await send(new DeleteResourcePolicyCommand({ ResourceARN: arn }));
  assert.equal((await send(new GetResourcePolicyCommand({ ResourceARN: arn }))).Policy, '{}');
  assert.equal((await send(new GetResourcePolicyCommand({ ResourceARN: consumer }))).Policy, POLICY);

  await assert.rejects(send(new PutResourcePolicyCommand({ ResourceARN: arn, Policy: '{"Statement":[]}' })),
    (e) => e instanceof InvalidArgumentException && e.message === 'Invalid policy document: Statement is empty.');
  await assert.rejects(send(new GetResourcePolicyCommand({ ResourceARN: streamArn('js-no-such-stream') })),
    (e) => e instanceof ResourceNotFoundException && e.message === notFound('js-no-such-stream'));
  await assert.rejects(send(new GetResourcePolicyCommand({ ResourceARN: 'arn:aws:sqs:us-east-1:000000000000:queue' })),
    (e) => e instanceof ValidationException && e.message.includes("at 'resourceARN' failed to satisfy constraint"));
});

test('new operations: AUTO takes records without partition keys and says so in DescribeStreamSummary', async () => {
  const name = await createStream('jsauto', { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, RecordDistributionStrategy: 'AUTO' });
  assert.equal((await summary(name)).RecordDistributionStrategy, 'AUTO');
  const one = await send(new PutRecordCommand({ StreamName: name, Data: bytes('no key') }));
  assert.match(one.SequenceNumber, /^\d{56}$/);
  const batch = await send(new PutRecordsCommand({ StreamName: name, Records: Array.from({ length: 40 }, (_, i) => ({ Data: bytes(`r${i}`) })) }));
  assert.equal(batch.FailedRecordCount, 0);
  assert.equal(new Set(batch.Records.map((r) => r.ShardId)).size, 4, 'spread over the 4 shards');
  const iterator = (await send(new GetShardIteratorCommand({ StreamName: name, ShardId: one.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  const records = (await send(new GetRecordsCommand({ ShardIterator: iterator }))).Records;
  assert.ok(records.length > 0);
  assert.ok(records.every((r) => r.PartitionKey === undefined), 'no key given, none returned');

  await send(new UpdateStreamRecordDistributionStrategyCommand({ StreamARN: streamArn(name), RecordDistributionStrategy: 'USER_PARTITION_KEY' }));
  assert.equal((await summary(name)).RecordDistributionStrategy, 'USER_PARTITION_KEY');
  await assert.rejects(send(new PutRecordCommand({ StreamName: name, Data: bytes('no key') })),
    (e) => e instanceof ValidationException && e.message.includes("Value null at 'partitionKey' failed to satisfy constraint: Member must not be null"));

  const provisioned = await createStream('jsprov', { ShardCount: 1 });
  await assert.rejects(send(new UpdateStreamRecordDistributionStrategyCommand({ StreamARN: streamArn(provisioned), RecordDistributionStrategy: 'AUTO' })),
    (e) => e instanceof InvalidArgumentException && e.message.includes('only supported for streams in ON_DEMAND mode'));
});

test('new operations: the billing commitment and warm throughput, on a server of their own with a 2 s commitment period', async () => {
  const root = mkdtempSync(join(tmpdir(), 'interop-js-account-'));
  const server = await spawnRunnel(root, ['--limits', 'off', '--commitment-period', '2000']);
  const client = newClient(server.url);
  try {
    await waitFor(async () => {
      try { await send(new DescribeAccountSettingsCommand({}), client); return true; } catch { return false; }
    }, 'the server of its own to answer');
    assert.deepEqual((await send(new DescribeAccountSettingsCommand({}), client)).MinimumThroughputBillingCommitment, { Status: 'DISABLED' });
    await assert.rejects(send(new CreateStreamCommand({ StreamName: uniqueName('jswarm'), StreamModeDetails: { StreamMode: 'ON_DEMAND' }, WarmThroughputMiBps: 6 }), client),
      (e) => e instanceof InvalidArgumentException && e.message.includes('minimum throughput billing commitment'));

    const enabled = (await send(new UpdateAccountSettingsCommand({ MinimumThroughputBillingCommitment: { Status: 'ENABLED' } }), client)).MinimumThroughputBillingCommitment;
    assert.equal(enabled.Status, 'ENABLED');
    assert.ok(enabled.StartedAt instanceof Date && enabled.EarliestAllowedEndAt instanceof Date, 'timestamps as dates');
    assert.equal(enabled.EarliestAllowedEndAt - enabled.StartedAt, 2000);

    const name = await createStream('jswarm', { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, WarmThroughputMiBps: 6 }, client);
    let described = await summary(name, client);
    assert.equal(described.OpenShardCount, 6);
    assert.deepEqual(described.WarmThroughput, { TargetMiBps: 6, CurrentMiBps: 6 });
    const update = await send(new UpdateStreamWarmThroughputCommand({ StreamName: name, WarmThroughputMiBps: 9 }), client);
    assert.deepEqual(update.WarmThroughput, { TargetMiBps: 9, CurrentMiBps: 6 });
    assert.equal(update.StreamName, name);
    described = await summary(name, client);
    assert.equal(described.OpenShardCount, 9);

    const scheduled = (await send(new UpdateAccountSettingsCommand({ MinimumThroughputBillingCommitment: { Status: 'DISABLED' } }), client)).MinimumThroughputBillingCommitment;
    assert.equal(scheduled.Status, 'ENABLED_UNTIL_EARLIEST_ALLOWED_END');
    await sleep(Math.max(0, scheduled.EarliestAllowedEndAt - Date.now()) + 300);
    const ended = (await send(new DescribeAccountSettingsCommand({}), client)).MinimumThroughputBillingCommitment;
    assert.equal(ended.Status, 'DISABLED');
    assert.ok(ended.EndedAt instanceof Date);
    assert.equal((await summary(name, client)).WarmThroughput, undefined, 'shown only while the commitment holds');
    await assert.rejects(send(new UpdateStreamWarmThroughputCommand({ StreamName: name, WarmThroughputMiBps: 12 }), client),
      (e) => e instanceof InvalidArgumentException);
  } finally {
    assert.ok(await server.stop(), 'the server stops on SIGTERM');
    const failures = server.failures();
    rmSync(root, { recursive: true, force: true });
    assert.deepEqual(failures, [], 'the server logged no internal failure');
  }
});
