"""CloudWatch's API through Debian's boto3 `cloudwatch` client, which speaks the query protocol: the AWS/Kinesis
metrics of known traffic read back with GetMetricStatistics (counts exact, percentiles of values under 128 exact),
found with ListMetrics, an alarm on a p99 that fires, and AWS's errors for a bad range, period or datapoint count
(docs/adr/0003-observability-facts.md)."""

import datetime
import time
import uuid

from botocore.exceptions import ClientError

from kinesis_support import KinesisTestCase, cloudwatch, delete_delivery_stream_quietly, firehose, unique_name


class CloudWatchTest(KinesisTestCase):

    def setUp(self):
        super().setUp()
        try:
            cloudwatch().list_metrics(Namespace="AWS/Kinesis", MetricName="none")
        except ClientError as e:
            if e.response["ResponseMetadata"]["HTTPStatusCode"] in (403, 404):  # the Kinesis endpoint's answer: no CloudWatch here
                self.skipTest("this server keeps no metric history (--metrics off)")
            raise

    def window(self):
        now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
        return now - datetime.timedelta(minutes=10), now + datetime.timedelta(minutes=2)

    def test_incoming_records_of_known_traffic_read_back_exactly(self):
        name = self.create_stream("cw", 1)
        for batch in (3, 5):
            self.kinesis.put_records(StreamName=name, Records=[{"PartitionKey": f"k{i}", "Data": b"x" * 10} for i in range(batch)])
        start, end = self.window()

        answer = cloudwatch().get_metric_statistics(
            Namespace="AWS/Kinesis", MetricName="IncomingRecords", Dimensions=[{"Name": "StreamName", "Value": name}],
            StartTime=start, EndTime=end, Period=60, Statistics=["Sum", "SampleCount", "Minimum", "Maximum"])
        self.assertEqual(answer["Label"], "IncomingRecords")
        points = answer["Datapoints"]
        self.assertEqual(sum(p["Sum"] for p in points), 8)
        self.assertEqual(sum(p["SampleCount"] for p in points), 2)
        self.assertEqual(min(p["Minimum"] for p in points), 3)
        self.assertEqual(max(p["Maximum"] for p in points), 5)
        self.assertTrue(all(p["Unit"] == "Count" and "Average" not in p for p in points))
        whole = cloudwatch().get_metric_statistics(
            Namespace="AWS/Kinesis", MetricName="IncomingBytes", Dimensions=[{"Name": "StreamName", "Value": name}],
            StartTime=start, EndTime=end, Period=720, Statistics=["Sum", "Average"], Unit="Bytes")["Datapoints"]
        self.assertEqual(len(whole), 1)
        self.assertEqual((whole[0]["Sum"], whole[0]["Average"]), (80.0, 40.0))
        other_unit = cloudwatch().get_metric_statistics(
            Namespace="AWS/Kinesis", MetricName="IncomingBytes", Dimensions=[{"Name": "StreamName", "Value": name}],
            StartTime=start, EndTime=end, Period=60, Statistics=["Sum"], Unit="Count")["Datapoints"]
        self.assertEqual(other_unit, [])

    def test_a_delivery_streams_firehose_metrics_read_back_exactly(self):
        name = unique_name("cw-fh")
        firehose().create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::000000000000:role/firehose", "BucketARN": "arn:aws:s3:::cw-firehose"})
        self.addCleanup(delete_delivery_stream_quietly, name)
        firehose().put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"y" * 25} for _ in range(4)])
        firehose().put_record(DeliveryStreamName=name, Record={"Data": b"z" * 10})
        start, end = self.window()
        dimensions = [{"Name": "DeliveryStreamName", "Value": name}]
        records = cloudwatch().get_metric_statistics(Namespace="AWS/Firehose", MetricName="IncomingRecords", Dimensions=dimensions,
                                                     StartTime=start, EndTime=end, Period=720, Statistics=["Sum"])["Datapoints"]
        self.assertEqual([(p["Sum"], p["Unit"]) for p in records], [(5.0, "Count")])
        data = cloudwatch().get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[
            {"Id": "bytes", "MetricStat": {"Metric": {"Namespace": "AWS/Firehose", "MetricName": "IncomingBytes", "Dimensions": dimensions},
                                           "Period": 720, "Stat": "Sum"}},
            {"Id": "batches", "MetricStat": {"Metric": {"Namespace": "AWS/Firehose", "MetricName": "IncomingPutRequests", "Dimensions": dimensions},
                                             "Period": 720, "Stat": "Sum"}}])["MetricDataResults"]
        self.assertEqual({r["Id"]: r["Values"] for r in data}, {"bytes": [110.0], "batches": [2.0]})
        listed = cloudwatch().list_metrics(Namespace="AWS/Firehose", Dimensions=dimensions)["Metrics"]
        self.assertIn("IncomingRecords", {m["MetricName"] for m in listed})

    def test_get_metric_data_answers_each_query_with_its_label_and_order(self):
        name = self.create_stream("cwdata", 1)
        for batch in (2, 6):
            self.kinesis.put_records(StreamName=name, Records=[{"PartitionKey": f"k{i}", "Data": b"y"} for i in range(batch)])
        start, end = self.window()
        metric = {"Namespace": "AWS/Kinesis", "MetricName": "IncomingRecords", "Dimensions": [{"Name": "StreamName", "Value": name}]}
        answer = cloudwatch().get_metric_data(StartTime=start, EndTime=end, ScanBy="TimestampAscending", MetricDataQueries=[
            {"Id": "total", "MetricStat": {"Metric": metric, "Period": 720, "Stat": "Sum"}},
            {"Id": "largest", "MetricStat": {"Metric": metric, "Period": 720, "Stat": "Maximum"}},
            {"Id": "hidden", "MetricStat": {"Metric": metric, "Period": 720, "Stat": "Minimum"}, "ReturnData": False},
            {"Id": "named", "Label": "calls", "MetricStat": {"Metric": metric, "Period": 720, "Stat": "SampleCount", "Unit": "Count"}},
        ])
        results = {r["Id"]: r for r in answer["MetricDataResults"]}
        self.assertEqual(set(results), {"total", "largest", "named"})
        self.assertEqual((results["total"]["Label"], results["total"]["Values"]), ("IncomingRecords Sum", [8.0]))
        self.assertEqual((results["largest"]["Label"], results["largest"]["Values"]), ("IncomingRecords Maximum", [6.0]))
        self.assertEqual((results["named"]["Label"], results["named"]["Values"]), ("calls", [2.0]))
        self.assertEqual(results["total"]["Timestamps"], [start])
        self.assertTrue(all(r["StatusCode"] == "Complete" for r in results.values()))
        with self.assertRaises(ClientError) as raised:
            cloudwatch().get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[{"Id": "Bad", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}}])
        self.assertEqual(raised.exception.response["Error"]["Code"], "ValidationError")

    def test_get_metric_data_computes_metric_math_over_its_queries(self):
        name = self.create_stream("cwmath", 1)
        self.kinesis.put_records(StreamName=name, Records=[{"PartitionKey": f"k{i}", "Data": b"z" * 4} for i in range(5)])
        start, end = self.window()
        dims = [{"Name": "StreamName", "Value": name}]
        answer = cloudwatch().get_metric_data(StartTime=start, EndTime=end, ScanBy="TimestampAscending", MetricDataQueries=[
            {"Id": "records", "MetricStat": {"Metric": {"Namespace": "AWS/Kinesis", "MetricName": "IncomingRecords", "Dimensions": dims}, "Period": 720, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "bytes", "MetricStat": {"Metric": {"Namespace": "AWS/Kinesis", "MetricName": "IncomingBytes", "Dimensions": dims}, "Period": 720, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "per_record", "Expression": "bytes / records", "Label": "bytes a record"},
            {"Id": "doubled", "Expression": "per_record * 2"},
            {"Id": "total", "Expression": "SUM(METRICS())"},
        ])
        results = {r["Id"]: r for r in answer["MetricDataResults"]}
        self.assertEqual(set(results), {"per_record", "doubled", "total"})
        self.assertEqual((results["per_record"]["Label"], results["per_record"]["Values"], results["per_record"]["Timestamps"]), ("bytes a record", [4.0], [start]))
        self.assertEqual(results["doubled"]["Values"], [8.0])
        self.assertEqual(results["total"]["Values"], [25.0])
        with self.assertRaises(ClientError) as raised:
            cloudwatch().get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[{"Id": "e1", "Expression": "nothing + 1"}])
        self.assertEqual(raised.exception.response["Error"]["Code"], "ValidationError")
        self.assertIn("Unrecognized identifier nothing", raised.exception.response["Error"]["Message"])

    def test_percentiles_of_known_traffic_read_back_exactly(self):
        name = self.create_stream("cwpct", 1)
        for batch in range(1, 21):  # IncomingRecords' samples: 1..20
            self.kinesis.put_records(StreamName=name, Records=[{"PartitionKey": f"k{i}", "Data": b"p"} for i in range(batch)])
        start, end = self.window()
        dims = [{"Name": "StreamName", "Value": name}]
        points = cloudwatch().get_metric_statistics(
            Namespace="AWS/Kinesis", MetricName="IncomingRecords", Dimensions=dims, StartTime=start, EndTime=end, Period=720,
            Statistics=["SampleCount"], ExtendedStatistics=["p99", "p50", "p0.0", "p100"])["Datapoints"]
        self.assertEqual(len(points), 1)
        self.assertEqual(points[0]["SampleCount"], 20.0)
        # Of 20 samples, the p99 is the 20th (ceil(19.8)), the p50 the 10th.
        self.assertEqual(points[0]["ExtendedStatistics"], {"p99": 20.0, "p50": 10.0, "p0.0": 1.0, "p100": 20.0})
        only = cloudwatch().get_metric_statistics(
            Namespace="AWS/Kinesis", MetricName="PutRecords.Latency", Dimensions=dims, StartTime=start, EndTime=end, Period=720,
            ExtendedStatistics=["p99"])["Datapoints"]
        self.assertEqual(len(only), 1)
        self.assertEqual(set(only[0]), {"Timestamp", "Unit", "ExtendedStatistics"})
        self.assertGreater(only[0]["ExtendedStatistics"]["p99"], 0)
        data = cloudwatch().get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[
            {"Id": "p", "MetricStat": {"Metric": {"Namespace": "AWS/Kinesis", "MetricName": "IncomingRecords", "Dimensions": dims}, "Period": 720, "Stat": "p99"}}])
        self.assertEqual(data["MetricDataResults"][0]["Values"], [20.0])
        with self.assertRaises(ClientError) as raised:
            cloudwatch().get_metric_statistics(Namespace="AWS/Kinesis", MetricName="IncomingRecords", StartTime=start, EndTime=end, Period=60,
                                               ExtendedStatistics=["p99.999"])
        self.assertEqual(raised.exception.response["Error"]["Code"], "InvalidParameterValue")

    def test_an_alarm_on_a_p99_fires(self):
        name = self.create_stream("cwp99", 1)
        alarm = "py-p99-" + uuid.uuid4().hex[:12]
        cloudwatch().put_metric_alarm(
            AlarmName=alarm, Namespace="AWS/Kinesis", MetricName="IncomingRecords", Dimensions=[{"Name": "StreamName", "Value": name}],
            ExtendedStatistic="p99", Period=60, EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanThreshold")
        self.addCleanup(cloudwatch().delete_alarms, AlarmNames=[alarm])
        described, = cloudwatch().describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
        self.assertEqual(described["ExtendedStatistic"], "p99")
        self.assertNotIn("Statistic", described)
        for _ in range(5):  # every call 15 records or more: whichever minutes they fall in, each minute's p99 is over 10
            self.kinesis.put_records(StreamName=name, Records=[{"PartitionKey": f"k{i}", "Data": b"a"} for i in range(15)])
        # The alarm is evaluated once the minute is over (on a cluster, 5 s after it): within about 70 s.
        deadline = time.monotonic() + 100
        state = described["StateValue"]
        while state != "ALARM" and time.monotonic() < deadline:
            time.sleep(2)
            state = cloudwatch().describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"]
        self.assertEqual(state, "ALARM")
        fired, = cloudwatch().describe_alarms(AlarmNames=[alarm])["MetricAlarms"]
        self.assertIn("was greater than the threshold (10.0)", fired["StateReason"])

    def test_list_metrics_finds_a_streams_metrics_by_dimension(self):
        name = self.create_stream("cwlist", 1)
        self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"one")
        metrics = cloudwatch().list_metrics(Namespace="AWS/Kinesis", Dimensions=[{"Name": "StreamName", "Value": name}])["Metrics"]
        names = {m["MetricName"] for m in metrics}
        self.assertTrue({"IncomingBytes", "IncomingRecords", "PutRecord.Latency", "PutRecord.Success"} <= names, names)
        self.assertTrue(all(m["Dimensions"] == [{"Name": "StreamName", "Value": name}] for m in metrics))
        recent = cloudwatch().list_metrics(MetricName="PutRecord.Bytes", RecentlyActive="PT3H")["Metrics"]
        self.assertIn(name, [d["Value"] for m in recent for d in m["Dimensions"]])
        self.assertEqual(cloudwatch().list_metrics(Namespace="AWS/Nothing")["Metrics"], [])

    def test_bad_ranges_periods_and_counts_get_awss_errors(self):
        start, end = self.window()
        cases = [
            (dict(StartTime=end, EndTime=start, Period=60, Statistics=["Sum"]), "InvalidParameterValue",
             "The parameter StartTime must be less than the parameter EndTime."),
            (dict(StartTime=end - datetime.timedelta(days=3), EndTime=end, Period=60, Statistics=["Sum"]), "InvalidParameterCombination",
             "You have requested up to 4320 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by "
             "increasing Period, or decreasing the time range."),
            (dict(StartTime=start, EndTime=end, Period=60), "InvalidParameterCombination", None),
        ]
        for arguments, code, message in cases:
            with self.subTest(code=code):
                with self.assertRaises(ClientError) as raised:
                    cloudwatch().get_metric_statistics(Namespace="AWS/Kinesis", MetricName="IncomingBytes", **arguments)
                error = raised.exception.response["Error"]
                self.assertEqual(error["Code"], code)
                self.assertEqual(error["Type"], "Sender")
                if message is not None:
                    self.assertEqual(error["Message"], message)
                self.assertEqual(raised.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
