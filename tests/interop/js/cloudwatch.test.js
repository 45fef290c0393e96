// CloudWatch's API through the current @aws-sdk/client-cloudwatch, which speaks JSON 1.0
// (GraniteServiceVersion20100801, query-compatible errors): the AWS/Kinesis metrics of known traffic read back, listed,
// and AWS's errors; on a cluster too (its nodes share the history). With --metrics off the API is not served, and the test checks that.

import assert from 'node:assert/strict';
import { CloudWatchClient, GetMetricDataCommand, GetMetricStatisticsCommand, InvalidParameterCombinationException, InvalidParameterValueException, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ENDPOINT, REGION, test, uniqueName, waitFor } from './harness.js';

const options = { endpoint: ENDPOINT, region: REGION, credentials: { accessKeyId: 'interop', secretAccessKey: 'interop' }, maxAttempts: 1 };
const cloudwatch = new CloudWatchClient(options);
const kinesis = new KinesisClient(options);

/** Whether this server serves CloudWatch's API (false with --metrics off, which keeps no metric history). */
async function served() {
  try {
    await cloudwatch.send(new ListMetricsCommand({ Namespace: 'AWS/Nothing' }));
    return true;
  } catch (e) {
    assert.equal(e.$metadata?.httpStatusCode, 404, `a server without CloudWatch answers as the Kinesis endpoint does: ${e}`);
    return false;
  }
}

test('cloudwatch: GetMetricStatistics and ListMetrics over JSON 1.0 read the metrics of known traffic', async () => {
  if (!(await served())) return;
  const name = uniqueName('jscw');
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  await waitFor(async () => (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'ACTIVE');
  for (const count of [4, 2]) {
    await kinesis.send(new PutRecordsCommand({ StreamName: name, Records: Array.from({ length: count }, (_, i) => ({ PartitionKey: `k${i}`, Data: Buffer.from('12345') })) }));
  }
  const minute = Math.floor(Date.now() / 60000) * 60000;
  const answer = await cloudwatch.send(new GetMetricStatisticsCommand({
    Namespace: 'AWS/Kinesis', MetricName: 'IncomingRecords', Dimensions: [{ Name: 'StreamName', Value: name }],
    StartTime: new Date(minute - 600000), EndTime: new Date(minute + 120000), Period: 720, Statistics: ['Sum', 'SampleCount', 'Maximum'],
  }));
  assert.equal(answer.Label, 'IncomingRecords');
  assert.equal(answer.Datapoints.length, 1);
  const [point] = answer.Datapoints;
  assert.deepEqual([point.Sum, point.SampleCount, point.Maximum, point.Unit], [6, 2, 4, 'Count']);
  assert.ok(point.Timestamp instanceof Date);
  // Percentiles of the two calls' 4 and 2 records: the p99 is the larger, the p50 the smaller.
  const percentiles = await cloudwatch.send(new GetMetricStatisticsCommand({
    Namespace: 'AWS/Kinesis', MetricName: 'IncomingRecords', Dimensions: [{ Name: 'StreamName', Value: name }],
    StartTime: new Date(minute - 600000), EndTime: new Date(minute + 120000), Period: 720, ExtendedStatistics: ['p99', 'p50'],
  }));
  assert.deepEqual(percentiles.Datapoints.map((p) => p.ExtendedStatistics), [{ p99: 4, p50: 2 }]);
  const metric = { Namespace: 'AWS/Kinesis', MetricName: 'IncomingRecords', Dimensions: [{ Name: 'StreamName', Value: name }] };
  const data = await cloudwatch.send(new GetMetricDataCommand({
    StartTime: new Date(minute - 600000), EndTime: new Date(minute + 120000),
    MetricDataQueries: [{ Id: 'sum', MetricStat: { Metric: metric, Period: 720, Stat: 'Sum' } }, { Id: 'avg', MetricStat: { Metric: metric, Period: 720, Stat: 'Average' } },
      { Id: 'top', MetricStat: { Metric: metric, Period: 720, Stat: 'p99' } }],
  }));
  assert.deepEqual(data.MetricDataResults.map((r) => [r.Id, r.Label, r.Values, r.StatusCode]),
    [['sum', 'IncomingRecords Sum', [6], 'Complete'], ['avg', 'IncomingRecords Average', [3], 'Complete'], ['top', 'IncomingRecords p99', [4], 'Complete']]);
  assert.ok(data.MetricDataResults[0].Timestamps[0] instanceof Date);
  const listed = await cloudwatch.send(new ListMetricsCommand({ Namespace: 'AWS/Kinesis', Dimensions: [{ Name: 'StreamName', Value: name }] }));
  const names = listed.Metrics.map((m) => m.MetricName);
  for (const metric of ['IncomingBytes', 'PutRecords.TotalRecords', 'PutRecords.Latency']) assert.ok(names.includes(metric), `${metric} in ${names}`);
});

test('cloudwatch: AWS\'s errors reach the SDK as its typed exceptions', async () => {
  if (!(await served())) return;
  const now = Date.now();
  await assert.rejects(cloudwatch.send(new GetMetricStatisticsCommand({
    Namespace: 'AWS/Kinesis', MetricName: 'IncomingBytes', StartTime: new Date(now), EndTime: new Date(now - 60000), Period: 60, Statistics: ['Sum'],
  })), (e) => e instanceof InvalidParameterValueException && e.message === 'The parameter StartTime must be less than the parameter EndTime.');
  await assert.rejects(cloudwatch.send(new GetMetricStatisticsCommand({
    Namespace: 'AWS/Kinesis', MetricName: 'IncomingBytes', StartTime: new Date(now - 2 * 86400000), EndTime: new Date(now), Period: 60, Statistics: ['Sum'],
  })), (e) => e instanceof InvalidParameterCombinationException && e.message.includes('which exceeds the limit of 1440'));
});

test('cloudwatch: alarms over JSON 1.0: put, waited for, set, described with history, deleted; typed errors', async () => {
  if (!(await served())) return;
  const { PutMetricAlarmCommand, DescribeAlarmsCommand, SetAlarmStateCommand, DescribeAlarmHistoryCommand, DeleteAlarmsCommand, ResourceNotFound, waitUntilAlarmExists } =
    await import('@aws-sdk/client-cloudwatch');
  const name = uniqueName('jsalarm');
  await cloudwatch.send(new PutMetricAlarmCommand({
    AlarmName: name, Namespace: 'AWS/Kinesis', MetricName: 'GetRecords.IteratorAgeMilliseconds', Dimensions: [{ Name: 'StreamName', Value: 'orders' }],
    Statistic: 'Maximum', Period: 300, EvaluationPeriods: 2, DatapointsToAlarm: 1, Threshold: 60000, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'ignore', Unit: 'Milliseconds',
  }));
  await waitUntilAlarmExists({ client: cloudwatch, maxWaitTime: 10, minDelay: 1 }, { AlarmNames: [name] });
  const [alarm] = (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms;
  assert.deepEqual([alarm.StateValue, alarm.Threshold, alarm.Period, alarm.DatapointsToAlarm, alarm.Unit, alarm.TreatMissingData],
    ['INSUFFICIENT_DATA', 60000, 300, 1, 'Milliseconds', 'ignore']);
  assert.ok(alarm.StateUpdatedTimestamp instanceof Date && alarm.AlarmConfigurationUpdatedTimestamp instanceof Date);
  await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'ALARM', StateReason: 'from js' }));
  const history = await cloudwatch.send(new DescribeAlarmHistoryCommand({ AlarmName: name, ScanBy: 'TimestampAscending' }));
  assert.deepEqual(history.AlarmHistoryItems.map((i) => i.HistoryItemType), ['ConfigurationUpdate', 'StateUpdate']);
  assert.ok(history.AlarmHistoryItems[1].Timestamp instanceof Date);
  await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: [name] }));
  await assert.rejects(cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'OK', StateReason: 'x' })),
    (e) => e instanceof ResourceNotFound && e.$metadata.httpStatusCode === 404);
  await assert.rejects(cloudwatch.send(new PutMetricAlarmCommand({
    AlarmName: name, Namespace: 'AWS/Kinesis', MetricName: 'IncomingBytes', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, DatapointsToAlarm: 2,
    Threshold: 1, ComparisonOperator: 'GreaterThanThreshold',
  })), (e) => e.Code === 'ValidationError' && e.message === 'DatapointsToAlarm must be less than or equal to EvaluationPeriods');
});

test('cloudwatch: the same SDK over RPC v2 CBOR (what the Go and Swift SDKs send): statistics, alarms and errors', async () => {
  if (!(await served())) return;
  const { AwsSmithyRpcV2CborProtocol } = await import('@aws-sdk/core/protocols');
  const { PutMetricAlarmCommand, DescribeAlarmsCommand, SetAlarmStateCommand, DeleteAlarmsCommand, ResourceNotFound } = await import('@aws-sdk/client-cloudwatch');
  const requests = [];
  const cbor = new CloudWatchClient({ ...options, protocol: AwsSmithyRpcV2CborProtocol });
  cbor.middlewareStack.add((next) => async (args) => {
    requests.push({ path: args.request.path, protocol: args.request.headers['smithy-protocol'], target: args.request.headers['x-amz-target'] });
    const result = await next(args);
    requests.at(-1).answered = result.response.headers['smithy-protocol'];
    return result;
  }, { step: 'finalizeRequest' });

  const name = uniqueName('jscbor');
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  await waitFor(async () => (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }))).StreamDescriptionSummary.StreamStatus === 'ACTIVE', 'ACTIVE');
  await kinesis.send(new PutRecordsCommand({ StreamName: name, Records: [{ PartitionKey: 'a', Data: Buffer.from('x') }, { PartitionKey: 'b', Data: Buffer.from('y') }] }));
  const minute = Math.floor(Date.now() / 60000) * 60000;
  const answer = await cbor.send(new GetMetricStatisticsCommand({
    Namespace: 'AWS/Kinesis', MetricName: 'IncomingRecords', Dimensions: [{ Name: 'StreamName', Value: name }],
    StartTime: new Date(minute - 600000), EndTime: new Date(minute + 120000), Period: 720, Statistics: ['Sum'],
  }));
  assert.deepEqual(answer.Datapoints.map((p) => [p.Sum, p.Unit]), [[2, 'Count']]);
  assert.ok(answer.Datapoints[0].Timestamp instanceof Date);
  assert.equal(requests[0].path, '/service/GraniteServiceVersion20100801/operation/GetMetricStatistics');
  assert.deepEqual([requests[0].protocol, requests[0].target, requests[0].answered], ['rpc-v2-cbor', undefined, 'rpc-v2-cbor']);

  const alarm = uniqueName('jscboralarm');
  await cbor.send(new PutMetricAlarmCommand({
    AlarmName: alarm, Namespace: 'AWS/Kinesis', MetricName: 'IncomingRecords', Dimensions: [{ Name: 'StreamName', Value: name }],
    Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 2.5, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'ignore',
  }));
  await cbor.send(new SetAlarmStateCommand({ AlarmName: alarm, StateValue: 'ALARM', StateReason: 'over cbor' }));
  const [described] = (await cbor.send(new DescribeAlarmsCommand({ AlarmNames: [alarm] }))).MetricAlarms;
  assert.deepEqual([described.StateValue, described.StateReason, described.Threshold, described.Dimensions], ['ALARM', 'over cbor', 2.5, [{ Name: 'StreamName', Value: name }]]);
  assert.ok(described.StateUpdatedTimestamp instanceof Date);
  await cbor.send(new DeleteAlarmsCommand({ AlarmNames: [alarm] }));
  await assert.rejects(cbor.send(new SetAlarmStateCommand({ AlarmName: alarm, StateValue: 'OK', StateReason: 'x' })),
    (e) => e instanceof ResourceNotFound && e.$metadata.httpStatusCode === 404);
  await assert.rejects(cbor.send(new GetMetricStatisticsCommand({
    Namespace: 'AWS/Kinesis', MetricName: 'IncomingBytes', StartTime: new Date(minute), EndTime: new Date(minute - 60000), Period: 60, Statistics: ['Sum'],
  })), (e) => e instanceof InvalidParameterValueException && e.message === 'The parameter StartTime must be less than the parameter EndTime.');
});
