"""CloudWatch alarms through Debian's boto3 `cloudwatch` client (the query protocol): an alarm put, described as AWS
describes a new one, found by its waiter, set to ALARM by hand with its history written, paged, and deleted; AWS's
errors for a missing alarm and a bad state (docs/adr/0003-observability-facts.md, 3.4-3.8)."""

import json
import uuid

from botocore.exceptions import ClientError

from kinesis_support import KinesisTestCase, cloudwatch


class AlarmTest(KinesisTestCase):

    def setUp(self):
        super().setUp()
        try:
            cloudwatch().describe_alarms(AlarmNames=["none"])
        except ClientError as e:
            if e.response["ResponseMetadata"]["HTTPStatusCode"] in (403, 404):  # the Kinesis endpoint's answer: no CloudWatch here
                self.skipTest("this server keeps no metric history (--metrics off)")
            raise
        self.name = "py-alarm-" + uuid.uuid4().hex[:12]
        self.addCleanup(lambda: cloudwatch().delete_alarms(AlarmNames=[n for n in (self.name, self.name + "-2")
                                                                      if cloudwatch().describe_alarms(AlarmNames=[n])["MetricAlarms"]]))

    def put(self, name, **extra):
        cloudwatch().put_metric_alarm(
            AlarmName=name, Namespace="AWS/Kinesis", MetricName="IncomingRecords",
            Dimensions=[{"Name": "StreamName", "Value": "orders"}], Statistic="Sum", Period=60, EvaluationPeriods=3,
            Threshold=100, ComparisonOperator="GreaterThanThreshold", **extra)

    def test_a_new_alarm_is_described_as_aws_describes_one(self):
        self.put(self.name, DatapointsToAlarm=2, TreatMissingData="ignore", AlarmActions=["arn:aws:sns:us-east-1:000000000000:ops"])  # ignore: a minute's evaluation of no data keeps the new state
        cloudwatch().get_waiter("alarm_exists").wait(AlarmNames=[self.name], WaiterConfig={"Delay": 1, "MaxAttempts": 5})
        alarm, = cloudwatch().describe_alarms(AlarmNames=[self.name])["MetricAlarms"]
        self.assertEqual(alarm["AlarmArn"], f"arn:aws:cloudwatch:us-east-1:000000000000:alarm:{self.name}")
        self.assertEqual(alarm["StateValue"], "INSUFFICIENT_DATA")
        self.assertEqual(alarm["StateReason"], "Unchecked: Initial alarm creation")
        self.assertEqual((alarm["Threshold"], alarm["DatapointsToAlarm"], alarm["TreatMissingData"]), (100.0, 2, "ignore"))
        self.assertEqual(alarm["Dimensions"], [{"Name": "StreamName", "Value": "orders"}])
        self.assertEqual((alarm["OKActions"], alarm["ActionsEnabled"]), ([], True))
        self.assertNotIn("Unit", alarm)
        self.assertEqual(alarm["AlarmConfigurationUpdatedTimestamp"], alarm["StateUpdatedTimestamp"])

    def test_set_alarm_state_writes_the_history_and_describe_filters_by_state(self):
        self.put(self.name, TreatMissingData="ignore")  # no data: a minute's evaluation keeps the state set by hand
        cloudwatch().set_alarm_state(AlarmName=self.name, StateValue="ALARM", StateReason="testing alarm",
                                     StateReasonData=json.dumps({"source": "test"}))
        alarm, = cloudwatch().describe_alarms(AlarmNames=[self.name], StateValue="ALARM")["MetricAlarms"]
        self.assertEqual((alarm["StateReason"], json.loads(alarm["StateReasonData"])), ("testing alarm", {"source": "test"}))
        self.assertEqual(cloudwatch().describe_alarms(AlarmNames=[self.name], StateValue="OK")["MetricAlarms"], [])
        items = cloudwatch().describe_alarm_history(AlarmName=self.name)["AlarmHistoryItems"]
        self.assertEqual([i["HistoryItemType"] for i in items], ["StateUpdate", "ConfigurationUpdate"])
        self.assertEqual(items[0]["HistorySummary"], "Alarm updated from INSUFFICIENT_DATA to ALARM")
        data = json.loads(items[0]["HistoryData"])
        self.assertEqual(data["newState"], {"stateValue": "ALARM", "stateReason": "testing alarm", "stateReasonData": {"source": "test"}})
        created = json.loads(items[1]["HistoryData"])["createdAlarm"]
        self.assertEqual((created["alarmName"], created["okactions"]), (self.name, []))

    def test_describe_pages_and_delete_removes(self):
        self.put(self.name)
        self.put(self.name + "-2")
        first = cloudwatch().describe_alarms(AlarmNamePrefix=self.name, MaxRecords=1)
        self.assertEqual([a["AlarmName"] for a in first["MetricAlarms"]], [self.name])
        second = cloudwatch().describe_alarms(AlarmNamePrefix=self.name, MaxRecords=1, NextToken=first["NextToken"])
        self.assertEqual([a["AlarmName"] for a in second["MetricAlarms"]], [self.name + "-2"])
        self.assertNotIn("NextToken", second)
        paged = [a["AlarmName"] for page in cloudwatch().get_paginator("describe_alarms").paginate(AlarmNamePrefix=self.name, PaginationConfig={"PageSize": 1})
                 for a in page["MetricAlarms"]]
        self.assertEqual(paged, [self.name, self.name + "-2"])
        cloudwatch().delete_alarms(AlarmNames=[self.name, self.name + "-2"])
        self.assertEqual(cloudwatch().describe_alarms(AlarmNamePrefix=self.name)["MetricAlarms"], [])

    def test_errors_are_awss(self):
        with self.assertRaises(ClientError) as missing:
            cloudwatch().set_alarm_state(AlarmName=self.name, StateValue="OK", StateReason="x")
        self.assertEqual(missing.exception.response["Error"]["Code"], "ResourceNotFound")
        self.assertEqual(missing.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        self.put(self.name)
        with self.assertRaises(ClientError) as bad:
            cloudwatch().set_alarm_state(AlarmName=self.name, StateValue="INVALID", StateReason="x")
        self.assertEqual(bad.exception.response["Error"]["Code"], "ValidationError")
        self.assertIn("Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]", bad.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as too_many:
            self.put(self.name, DatapointsToAlarm=4)
        self.assertEqual(too_many.exception.response["Error"]["Message"], "DatapointsToAlarm must be less than or equal to EvaluationPeriods")
