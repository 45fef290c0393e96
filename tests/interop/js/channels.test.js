// Kinesis channels through the current @aws-sdk/client-kinesis, whose model has them (no botocore on this machine
// does): every operation, its waiter and paginator, channel ARNs as tag resources, and the errors a user meets.

import assert from 'node:assert/strict';
import {
  CreateChannelCommand, CreateStreamCommand, DeleteChannelCommand, DeleteStreamCommand, DescribeChannelCommand, DescribeLimitsCommand,
  DescribeStreamSummaryCommand, InvalidArgumentException, KinesisClient, LimitExceededException, ListChannelsCommand, ListTagsForResourceCommand,
  ResourceInUseException, ResourceNotFoundException, TagResourceCommand, UntagResourceCommand, UpdateChannelCommand, ValidationException,
  paginateListChannels, waitUntilChannelActive,
} from '@aws-sdk/client-kinesis';
import { ACCOUNT, ENDPOINT, REGION, streamArn, test, uniqueName, waitFor } from './harness.js';

const kinesis = new KinesisClient({ endpoint: ENDPOINT, region: REGION, credentials: { accessKeyId: 'interop', secretAccessKey: 'interop' }, maxAttempts: 1 });
const send = (command) => kinesis.send(command);
const ROLE = `arn:aws:iam::${ACCOUNT}:role/channel`;

async function onDemandStream(tag) {
  const name = uniqueName(tag);
  await send(new CreateStreamCommand({ StreamName: name, StreamModeDetails: { StreamMode: 'ON_DEMAND' } }));
  await waitFor(async () => (await send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary.StreamStatus === 'ACTIVE', `${name} ACTIVE`);
  return name;
}

const channelInput = (name, stream, extra = {}) => ({
  ChannelName: name,
  ServiceExecutionRoleARN: ROLE,
  StreamConfigurationList: [{ StreamARN: streamArn(stream), RecordConfiguration: { RecordFormatType: 'JSON' } }],
  S3DestinationConfiguration: { StorageConfiguration: { BucketARN: 'arn:aws:s3:::interop-js-channels', ExpectedBucketOwner: ACCOUNT, CompressionType: 'GZIP' } },
  ...extra,
});

/** Runs body with channels it creates through `make`, deleting them afterwards (a stream with channels cannot be deleted). */
async function withChannels(body) {
  const arns = [];
  const make = async (input) => {
    const { ChannelDescription } = await send(new CreateChannelCommand(input));
    arns.push(ChannelDescription.ChannelARN);
    return ChannelDescription;
  };
  try {
    await body(make);
  } finally {
    for (const arn of arns) await send(new DeleteChannelCommand({ ChannelARN: arn })).catch(() => {});
  }
}

test('channels: created with AWS\'s defaults, waited for, described, updated, listed and deleted', async () => {
  const stream = await onDemandStream('jsch');
  await withChannels(async (make) => {
    const name = uniqueName('chan');
    const created = await make(channelInput(name, stream, { Tags: { team: 'data' } }));
    assert.equal(created.ChannelStatus, 'CREATING');
    assert.equal(created.ChannelARN, `arn:aws:kinesis:${REGION}:${ACCOUNT}:channel/${created.ChannelId}`);
    assert.ok(created.ChannelCreationTimestamp instanceof Date);
    assert.equal(created.S3DestinationConfiguration.DataFreshnessInSeconds, 300);
    assert.equal(created.S3DestinationConfiguration.StorageConfiguration.StorageClass, 'STANDARD');
    assert.equal(created.S3DestinationConfiguration.DeadLetterQueueS3Configuration.ErrorOutputPrefix,
      `kinesis-channel/errors/${name}/${created.ChannelId}/`);
    assert.deepEqual(created.LoggingConfiguration, { CloudWatchLogs: { Enabled: false } });
    assert.ok(created.StreamConfigurationList[0].StreamCreationTimestamp instanceof Date);

    const waited = await waitUntilChannelActive({ client: kinesis, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { ChannelARN: created.ChannelARN });
    assert.equal(waited.state, 'SUCCESS');
    const described = (await send(new DescribeChannelCommand({ ChannelARN: created.ChannelARN }))).ChannelDescription;
    assert.equal(described.ChannelStatus, 'ACTIVE');
    assert.equal(described.ChannelName, name);

    const updated = (await send(new UpdateChannelCommand({ ChannelARN: created.ChannelARN, S3DestinationConfiguration: { DataFreshnessInSeconds: 900 } }))).ChannelDescription;
    assert.equal(updated.ChannelStatus, 'UPDATING');
    assert.equal(updated.S3DestinationConfiguration.DataFreshnessInSeconds, 900);

    const summaries = [];
    for await (const page of paginateListChannels({ client: kinesis, pageSize: 1 }, { StreamFilter: [{ StreamARN: streamArn(stream) }] })) summaries.push(...page.ChannelSummaries);
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0].ChannelDestinationType, 'S3');
    assert.equal(summaries[0].Streams[0].StreamARN, streamArn(stream));

    const tags = await send(new ListTagsForResourceCommand({ ResourceARN: created.ChannelARN }));
    assert.deepEqual(tags.Tags, [{ Key: 'team', Value: 'data' }]);
    await send(new TagResourceCommand({ ResourceARN: created.ChannelARN, Tags: { env: 'ci' } }));
    await send(new UntagResourceCommand({ ResourceARN: created.ChannelARN, TagKeys: ['team'] }));
    assert.deepEqual((await send(new ListTagsForResourceCommand({ ResourceARN: created.ChannelARN }))).Tags, [{ Key: 'env', Value: 'ci' }]);

    const limits = await send(new DescribeLimitsCommand({}));
    assert.ok(limits.ChannelCount >= 1 && limits.ChannelCountLimit === 100, JSON.stringify(limits));
    assert.equal((await send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary.ChannelCount, 1);

    await send(new DeleteChannelCommand({ ChannelARN: created.ChannelARN }));
    await assert.rejects(send(new DescribeChannelCommand({ ChannelARN: created.ChannelARN })),
      (e) => e instanceof ResourceNotFoundException && e.message === `Channel ${created.ChannelARN} not found.`);
  });
});

test('channels: a stream with a channel cannot be deleted, and the channel rules are enforced', async () => {
  const stream = await onDemandStream('jschr');
  await withChannels(async (make) => {
    const first = await make(channelInput(uniqueName('chan'), stream));
    await assert.rejects(send(new DeleteStreamCommand({ StreamName: stream })),
      (e) => e instanceof ResourceInUseException && e.message.includes('channels read this data stream'));
    await assert.rejects(make(channelInput(uniqueName('chan'), stream)),
      (e) => e instanceof LimitExceededException && e.message.includes('one channel of each destination type'));
    await assert.rejects(make(channelInput(first.ChannelName, stream)), (e) => e instanceof ResourceInUseException);
    await assert.rejects(make(channelInput(uniqueName('chan'), stream, {
      S3DestinationConfiguration: { StorageConfiguration: { BucketARN: 'arn:aws:s3:::b-1', ExpectedBucketOwner: ACCOUNT, CompressionType: 'NONE' }, DataFreshnessInSeconds: 30 },
    })), (e) => e instanceof InvalidArgumentException && e.message === 'DataFreshnessInSeconds must be between 300 and 900, and is 30.');
    await assert.rejects(make(channelInput(uniqueName('chan'), stream, {
      S3DestinationConfiguration: { StorageConfiguration: { BucketARN: 'arn:aws:s3:::b-1', ExpectedBucketOwner: ACCOUNT, CompressionType: 'ZSTD', OutputKeyTemplate: 'data/!{yyyy}/!{partition-id}' } },
    })), (e) => e instanceof InvalidArgumentException && e.message.startsWith('Invalid OutputKeyTemplate'));
    await assert.rejects(make(channelInput('x', stream, { ChannelName: 'bad name' })), (e) => e instanceof ValidationException);
  });
  const provisioned = uniqueName('jschp');
  await send(new CreateStreamCommand({ StreamName: provisioned, ShardCount: 1 }));
  await waitFor(async () => (await send(new DescribeStreamSummaryCommand({ StreamName: provisioned }))).StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'ACTIVE');
  await assert.rejects(send(new CreateChannelCommand(channelInput(uniqueName('chan'), provisioned))),
    (e) => e instanceof ValidationException && e.message.includes('ON_DEMAND'));
  await assert.rejects(send(new ListChannelsCommand({ NextToken: 'bm9wZQ==' })), (e) => e instanceof InvalidArgumentException);
});

test('channels: an S3 Tables channel is stored, described and FAILED with its reason (Runnel delivers to S3 only)', async () => {
  const stream = await onDemandStream('jscht');
  await withChannels(async (make) => {
    const created = await make({
      ChannelName: uniqueName('tables'),
      ServiceExecutionRoleARN: ROLE,
      StreamConfigurationList: [{ StreamARN: streamArn(stream), RecordConfiguration: { RecordFormatType: 'GSR_JSON', GSRSchemaARN: `arn:aws:glue:${REGION}:${ACCOUNT}:schema/reg/orders` } }],
      S3TablesDestinationConfiguration: {
        S3TablesConfigurationList: [{ TableBucketARN: `arn:aws:s3tables:${REGION}:${ACCOUNT}:bucket/tables`, Namespace: 'sales', TableName: 'orders', CompressionType: 'ZSTD' }],
        DeadLetterQueueS3Configuration: { BucketARN: 'arn:aws:s3:::dlq-bucket', ExpectedBucketOwner: ACCOUNT },
      },
    });
    assert.equal(created.S3TablesDestinationConfiguration.DataFreshnessInSeconds, 300);
    assert.equal(created.S3TablesDestinationConfiguration.S3TablesConfigurationList[0].TableName, 'orders');
    await assert.rejects(waitUntilChannelActive({ client: kinesis, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { ChannelARN: created.ChannelARN }),
      (e) => e.message.includes('"state":"FAILURE"'));
    const described = (await send(new DescribeChannelCommand({ ChannelARN: created.ChannelARN }))).ChannelDescription;
    assert.equal(described.ChannelStatus, 'FAILED');
    assert.match(described.ChannelStatusReason, /S3 Tables/);
  });
});
