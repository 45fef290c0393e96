// Firehose's control plane through the current @aws-sdk/client-firehose (its model allows what Debian's boto3 does
// not: IntervalInSeconds 0, DirectPutSourceConfiguration), over the SDK's default transport.

import assert from 'node:assert/strict';
import {
  ConcurrentModificationException, CreateDeliveryStreamCommand, DeleteDeliveryStreamCommand, DescribeDeliveryStreamCommand,
  FirehoseClient, InvalidArgumentException, ListDeliveryStreamsCommand, ListTagsForDeliveryStreamCommand, PutRecordBatchCommand, PutRecordCommand,
  ResourceInUseException, ResourceNotFoundException, StartDeliveryStreamEncryptionCommand, StopDeliveryStreamEncryptionCommand,
  TagDeliveryStreamCommand, UntagDeliveryStreamCommand, UpdateDestinationCommand,
} from '@aws-sdk/client-firehose';
import { ACCOUNT, ENDPOINT, REGION, test, uniqueName } from './harness.js';

const firehose = new FirehoseClient({ endpoint: ENDPOINT, region: REGION, credentials: { accessKeyId: 'interop', secretAccessKey: 'interop' }, maxAttempts: 1 });
const send = (command) => firehose.send(command);
const ROLE = `arn:aws:iam::${ACCOUNT}:role/firehose`;
const S3 = { RoleARN: ROLE, BucketARN: 'arn:aws:s3:::interop-js' };
const DESTINATION_ID = 'destinationId-000000000001';

async function withDeliveryStream(tag, input, body) {
  const name = uniqueName(tag);
  await send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name, ExtendedS3DestinationConfiguration: S3, ...input }));
  try {
    await body(name);
  } finally {
    await send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: name })).catch(() => {});
  }
}

const describe = async (name) => (await send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }))).DeliveryStreamDescription;

test('firehose: a DirectPut stream with the current model\'s members is created, described, listed and deleted', async () => {
  await withDeliveryStream('jsfh', {
    DirectPutSourceConfiguration: { ThroughputHintInMBs: 5 },
    ExtendedS3DestinationConfiguration: { ...S3, BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 0 }, CompressionFormat: 'GZIP' },
  }, async (name) => {
    const d = await describe(name);
    assert.equal(d.DeliveryStreamARN, `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/${name}`);
    assert.equal(d.DeliveryStreamStatus, 'ACTIVE');
    assert.equal(d.VersionId, '1');
    assert.ok(d.CreateTimestamp instanceof Date);
    assert.deepEqual(d.Source, { DirectPutSourceDescription: { ThroughputHintInMBs: 5 } });
    const extended = d.Destinations[0].ExtendedS3DestinationDescription;
    assert.deepEqual(extended.BufferingHints, { SizeInMBs: 1, IntervalInSeconds: 0 });
    assert.equal(extended.CompressionFormat, 'GZIP');
    assert.equal(d.Destinations[0].S3DestinationDescription.CompressionFormat, 'GZIP');
    const listed = await send(new ListDeliveryStreamsCommand({ Limit: 10000, DeliveryStreamType: 'DirectPut' }));
    assert.ok(listed.DeliveryStreamNames.includes(name));
    await assert.rejects(send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name, ExtendedS3DestinationConfiguration: S3 })),
      (e) => e instanceof ResourceInUseException && e.message === `Firehose ${name} under accountId ${ACCOUNT} already exists`);
  });
});

test('firehose: tags, destination updates with version ids, and encryption', async () => {
  await withDeliveryStream('jsfhops', { Tags: [{ Key: 'team', Value: 'a' }] }, async (name) => {
    await send(new TagDeliveryStreamCommand({ DeliveryStreamName: name, Tags: [{ Key: 'env', Value: 'ci' }] }));
    await send(new UntagDeliveryStreamCommand({ DeliveryStreamName: name, TagKeys: ['team'] }));
    const tags = await send(new ListTagsForDeliveryStreamCommand({ DeliveryStreamName: name }));
    assert.deepEqual(tags.Tags, [{ Key: 'env', Value: 'ci' }]);
    assert.equal(tags.HasMoreTags, false);

    await send(new UpdateDestinationCommand({ DeliveryStreamName: name, CurrentDeliveryStreamVersionId: '1', DestinationId: DESTINATION_ID,
      ExtendedS3DestinationUpdate: { Prefix: 'js/', ErrorOutputPrefix: 'errors/' } }));
    const d = await describe(name);
    assert.equal(d.VersionId, '2');
    assert.ok(d.LastUpdateTimestamp instanceof Date);
    assert.equal(d.Destinations[0].ExtendedS3DestinationDescription.Prefix, 'js/');
    await assert.rejects(send(new UpdateDestinationCommand({ DeliveryStreamName: name, CurrentDeliveryStreamVersionId: '1', DestinationId: DESTINATION_ID,
      ExtendedS3DestinationUpdate: { Prefix: 'late/' } })), (e) => e instanceof ConcurrentModificationException);

    await send(new StartDeliveryStreamEncryptionCommand({ DeliveryStreamName: name, DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' } }));
    assert.deepEqual((await describe(name)).DeliveryStreamEncryptionConfiguration, { KeyType: 'AWS_OWNED_CMK', Status: 'ENABLED' });
    await send(new StopDeliveryStreamEncryptionCommand({ DeliveryStreamName: name }));
    assert.deepEqual((await describe(name)).DeliveryStreamEncryptionConfiguration, { Status: 'DISABLED' });
  });
});

test('firehose: errors come as the SDK\'s modelled exceptions', async () => {
  const missing = uniqueName('jsfhmissing');
  await assert.rejects(describe(missing),
    (e) => e instanceof ResourceNotFoundException && e.message === `Firehose ${missing} under account ${ACCOUNT} not found.` && e.$metadata.httpStatusCode === 400);
  await assert.rejects(send(new CreateDeliveryStreamCommand({ DeliveryStreamName: uniqueName('jsfhprefix'),
    ExtendedS3DestinationConfiguration: { ...S3, Prefix: '!{timestamp:yyyy}/' } })),
  (e) => e instanceof InvalidArgumentException && e.message.startsWith('Ths supplied prefix(es) do not satisfy the following constraint: '));
  await assert.rejects(send(new ListDeliveryStreamsCommand({ Limit: 0 })),
    (e) => e.name === 'ValidationException' && e.message.includes("at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"));
});

test('firehose: PutRecord and PutRecordBatch answer record ids, and AWS\'s limits hold', async () => {
  await withDeliveryStream('jsfhput', {}, async (name) => {
    const one = await send(new PutRecordCommand({ DeliveryStreamName: name, Record: { Data: new TextEncoder().encode('one\n') } }));
    assert.ok(one.RecordId.length > 0);
    assert.equal(one.Encrypted, false);
    const batch = await send(new PutRecordBatchCommand({ DeliveryStreamName: name,
      Records: Array.from({ length: 500 }, (_, i) => ({ Data: new TextEncoder().encode(`r${i}\n`) })) }));
    assert.equal(batch.FailedPutCount, 0);
    assert.equal(batch.RequestResponses.length, 500);
    assert.equal(new Set(batch.RequestResponses.map((r) => r.RecordId)).size, 500);
    await assert.rejects(send(new PutRecordBatchCommand({ DeliveryStreamName: name,
      Records: Array.from({ length: 5 }, () => ({ Data: new Uint8Array(1_000_000) })) })),
    (e) => e instanceof InvalidArgumentException && e.message === 'Records size exceeds 4 MB limit');
  });
});
