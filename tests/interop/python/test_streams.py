"""The stream control plane through boto3: create, describe, list, delete, retention, limits, monitoring."""

import datetime
import re
import time

from kinesis_support import (ACCOUNT, REGION, KinesisTestCase, delete_quietly, expected_hash_ranges, raw_call, stream_arn,
                             unique_name, wait_active, wait_gone, wait_no_deletions)

SEQUENCE_NUMBER = re.compile(r"0|[1-9]\d{0,128}")
ALL_METRICS = ["IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords",
               "WriteProvisionedThroughputExceeded", "ReadProvisionedThroughputExceeded",
               "IteratorAgeMilliseconds"]


class CreateStreamTests(KinesisTestCase):

    def test_create_with_shard_count_describes_even_hash_ranges(self):
        name = self.create_stream("create3", shard_count=3)
        description = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        shards = description["Shards"]
        self.assertEqual([s["ShardId"] for s in shards],
                         ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"])
        ranges = [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in shards]
        self.assertEqual(ranges, expected_hash_ranges(3))
        self.assertEqual(shards[1]["HashKeyRange"]["StartingHashKey"], "113427455640312821154458202477256070485")
        self.assertEqual(shards[2]["HashKeyRange"]["EndingHashKey"], "340282366920938463463374607431768211455")
        for shard in shards:
            self.assertEqual(set(shard), {"ShardId", "HashKeyRange", "SequenceNumberRange"})
            self.assertEqual(set(shard["SequenceNumberRange"]), {"StartingSequenceNumber"}, "open shards have no EndingSequenceNumber")
            self.assertRegex(shard["SequenceNumberRange"]["StartingSequenceNumber"], SEQUENCE_NUMBER)

    def test_create_with_every_name_character(self):
        name = self.create_stream("Name.With_every-char9")
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamName"], name)

    def test_create_with_shard_count_is_provisioned(self):
        name = self.create_stream("prov", shard_count=2)
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
        self.assertEqual(summary["OpenShardCount"], 2)

    def test_create_without_shard_count_opens_four_shards(self):
        name = self.create_stream("noshards", shard_count=None)
        self.assertEqual(len(self.shards(name)), 4)
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["OpenShardCount"], 4)
        # Fact sheet 3.1: most likely ON_DEMAND, which starts at 4 shards.
        self.assertEqual(summary["StreamModeDetails"], {"StreamMode": "ON_DEMAND"})

    def test_create_mode_and_shard_count_conflicts(self):
        # AWS's texts are not captured (fact sheet 3.1), so only the error code is asserted; CloudFormation
        # relays AWS's refusal of ON_DEMAND with a ShardCount as "ShardCount is not expected when StreamMode=ON_DEMAND".
        for tag, arguments in (("ondemandcount", {"ShardCount": 2, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}),
                               ("provnocount", {"StreamModeDetails": {"StreamMode": "PROVISIONED"}})):
            with self.subTest(arguments):
                name = unique_name(tag)
                self.addCleanup(delete_quietly, name)
                self.assert_client_error("InvalidArgumentException", None, self.kinesis.create_stream, StreamName=name, **arguments)

    def test_create_on_demand(self):
        wait_no_deletions()
        before = self.kinesis.describe_limits()["OnDemandStreamCount"]
        name = self.create_stream("ondemand", shard_count=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamModeDetails"], {"StreamMode": "ON_DEMAND"})
        self.assertEqual(summary["OpenShardCount"], 4)
        self.assertEqual(self.kinesis.describe_limits()["OnDemandStreamCount"], before + 1)

    def test_create_with_tags(self):
        # Debian's boto3 model has no Tags on CreateStream yet, so this one goes raw.
        name = self.create_stream_raw("tagged", {"ShardCount": 1, "Tags": {"team": "data", "env": "test", "empty": ""}})
        tags = self.kinesis.list_tags_for_stream(StreamName=name)
        self.assertEqual(tags["Tags"], [{"Key": "empty", "Value": ""}, {"Key": "env", "Value": "test"},
                                        {"Key": "team", "Value": "data"}])
        self.assertFalse(tags["HasMoreTags"])

    def test_create_with_floored_shard_count(self):
        # AWS floors JSON numbers given for Integer members (fact sheet 2.1).
        name = self.create_stream_raw("floor", {"ShardCount": 2.7})
        self.assertEqual(len(self.shards(name)), 2)

    def test_create_ignores_unknown_and_null_members(self):
        name = self.create_stream_raw("unknown", {"ShardCount": 1, "NoSuchMember": [1, 2], "StreamModeDetails": None})
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamModeDetails"], {"StreamMode": "PROVISIONED"})

    def test_create_twice_is_resource_in_use(self):
        name = self.create_stream("twice")
        self.assert_client_error("ResourceInUseException", f"Stream {name} under account {ACCOUNT} already exists.",
                                 self.kinesis.create_stream, StreamName=name, ShardCount=1)

    def test_create_success_body_is_empty(self):
        name = unique_name("emptybody")
        self.addCleanup(lambda: self.kinesis.delete_stream(StreamName=name))
        response = raw_call("CreateStream", {"StreamName": name, "ShardCount": 1})
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, b"")
        self.assertEqual(response.headers.get("content-length"), "0")


class DescribeStreamTests(KinesisTestCase):

    def test_describe_stream_shape(self):
        started = time.time()
        name = self.create_stream("describe", shard_count=2)
        description = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        required = {"StreamName", "StreamARN", "StreamStatus", "Shards", "HasMoreShards", "RetentionPeriodHours",
                    "StreamCreationTimestamp", "EnhancedMonitoring"}
        optional = {"StreamModeDetails", "EncryptionType"}
        self.assertTrue(required <= set(description), f"missing {required - set(description)}")
        self.assertTrue(set(description) <= required | optional, f"unexpected {set(description) - required - optional}")
        self.assertNotIn("KeyId", description)
        self.assertEqual(description["StreamName"], name)
        self.assertEqual(description["StreamARN"], stream_arn(name))
        self.assertEqual(description["StreamStatus"], "ACTIVE")
        self.assertEqual(description["RetentionPeriodHours"], 24)
        self.assertEqual(description["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])
        self.assertEqual(description["EncryptionType"], "NONE")
        self.assertFalse(description["HasMoreShards"])
        self.assertEqual(len(description["Shards"]), 2)
        created = description["StreamCreationTimestamp"].timestamp()
        self.assertLessEqual(abs(created - started), 10, "StreamCreationTimestamp is not about now")

    def test_describe_stream_raw_json_types(self):
        name = self.create_stream("describeraw")
        body = raw_call("DescribeStream", {"StreamName": name}).json()["StreamDescription"]
        self.assertIsInstance(body["StreamCreationTimestamp"], (int, float), "timestamps are epoch seconds as numbers")
        self.assertGreater(body["StreamCreationTimestamp"], 1e9)
        self.assertLess(body["StreamCreationTimestamp"], 1e10)
        self.assertIsInstance(body["RetentionPeriodHours"], int)
        self.assertIs(body["HasMoreShards"], False)
        self.assertIsInstance(body["Shards"][0]["HashKeyRange"]["StartingHashKey"], str)

    def test_describe_stream_limit_and_exclusive_start_shard_id(self):
        name = self.create_stream("describepage", shard_count=5)
        first = self.kinesis.describe_stream(StreamName=name, Limit=2)["StreamDescription"]
        self.assertEqual([s["ShardId"] for s in first["Shards"]], ["shardId-000000000000", "shardId-000000000001"])
        self.assertTrue(first["HasMoreShards"])
        rest = self.kinesis.describe_stream(StreamName=name, ExclusiveStartShardId="shardId-000000000001")["StreamDescription"]
        self.assertEqual([s["ShardId"] for s in rest["Shards"]],
                         ["shardId-000000000002", "shardId-000000000003", "shardId-000000000004"])
        self.assertFalse(rest["HasMoreShards"])
        last = self.kinesis.describe_stream(StreamName=name, Limit=3, ExclusiveStartShardId="shardId-000000000001")["StreamDescription"]
        self.assertEqual(len(last["Shards"]), 3)
        self.assertFalse(last["HasMoreShards"])

    def test_describe_stream_summary_shape(self):
        name = self.create_stream("summary", shard_count=3)
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        required = {"StreamName", "StreamARN", "StreamStatus", "RetentionPeriodHours", "StreamCreationTimestamp",
                    "EnhancedMonitoring", "OpenShardCount"}
        optional = {"StreamModeDetails", "EncryptionType", "ConsumerCount"}
        self.assertTrue(required <= set(summary), f"missing {required - set(summary)}")
        self.assertTrue(set(summary) <= required | optional, f"unexpected {set(summary) - required - optional}")
        self.assertNotIn("Shards", summary)
        self.assertEqual(summary["StreamName"], name)
        self.assertEqual(summary["StreamARN"], stream_arn(name))
        self.assertEqual(summary["StreamStatus"], "ACTIVE")
        self.assertEqual(summary["OpenShardCount"], 3)
        self.assertEqual(summary.get("ConsumerCount", 0), 0)
        self.assertEqual(summary["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])
        self.assertEqual(summary["EncryptionType"], "NONE")
        self.assertIsInstance(summary["StreamCreationTimestamp"], datetime.datetime)

    def test_not_found_on_every_stream_operation(self):
        name = unique_name("missing")
        message = self.not_found(name)
        k = self.kinesis
        self.assert_client_error("ResourceNotFoundException", message, k.describe_stream, StreamName=name)
        self.assert_client_error("ResourceNotFoundException", message, k.describe_stream_summary, StreamName=name)
        self.assert_client_error("ResourceNotFoundException", message, k.delete_stream, StreamName=name)
        self.assert_client_error("ResourceNotFoundException", message, k.list_shards, StreamName=name)
        self.assert_client_error("ResourceNotFoundException", message, k.put_record, StreamName=name, PartitionKey="a", Data=b"x")
        self.assert_client_error("ResourceNotFoundException", message, k.put_records, StreamName=name,
                                 Records=[{"PartitionKey": "a", "Data": b"x"}])
        self.assert_client_error("ResourceNotFoundException", message, k.increase_stream_retention_period,
                                 StreamName=name, RetentionPeriodHours=48)
        self.assert_client_error("ResourceNotFoundException", message, k.add_tags_to_stream, StreamName=name, Tags={"a": "b"})
        self.assert_client_error("ResourceNotFoundException", message, k.list_tags_for_stream, StreamName=name)

    def test_delete_stream(self):
        name = self.create_stream("delete")
        response = raw_call("DeleteStream", {"StreamName": name})
        self.assertEqual((response.status, response.body), (200, b""))
        wait_gone(name)
        self.assert_client_error("ResourceNotFoundException", self.not_found(name),
                                 self.kinesis.describe_stream, StreamName=name)
        self.assertNotIn(name, self.kinesis.list_streams(ExclusiveStartStreamName=name[:-1])["StreamNames"])

    def test_recreate_after_delete(self):
        name = self.create_stream("recreate", shard_count=2)
        self.kinesis.delete_stream(StreamName=name)
        wait_gone(name)
        self.kinesis.create_stream(StreamName=name, ShardCount=1)
        wait_active(name)
        self.assertEqual(len(self.shards(name)), 1)


class ListStreamsTests(KinesisTestCase):

    def test_list_streams_pagination(self):
        tag = unique_name("ls")
        names = [f"{tag}-{c}" for c in "abc"]
        for name in names:
            self.kinesis.create_stream(StreamName=name, ShardCount=1)
            self.addCleanup(self.kinesis.delete_stream, StreamName=name)
        first = self.kinesis.list_streams(Limit=2, ExclusiveStartStreamName=tag)
        self.assertEqual(first["StreamNames"], names[:2])
        self.assertTrue(first["HasMoreStreams"])
        self.assertIn("NextToken", first)
        self.assertEqual([s["StreamName"] for s in first["StreamSummaries"]], names[:2])
        summary = first["StreamSummaries"][0]
        self.assertEqual(summary["StreamARN"], stream_arn(names[0]))
        self.assertIn(summary["StreamStatus"], ("CREATING", "ACTIVE"))
        self.assertEqual(summary["StreamModeDetails"], {"StreamMode": "PROVISIONED"})
        self.assertIsInstance(summary["StreamCreationTimestamp"], datetime.datetime)

        second = self.kinesis.list_streams(Limit=2, NextToken=first["NextToken"])
        self.assertEqual(second["StreamNames"][0], names[2])
        self.assertEqual(second["StreamSummaries"][0]["StreamName"], names[2])

        by_name = self.kinesis.list_streams(Limit=2, ExclusiveStartStreamName=names[1])
        self.assertEqual(by_name["StreamNames"][0], names[2])

    def test_list_streams_sorted_and_exclusive_start_need_not_exist(self):
        tag = unique_name("lsort")
        names = [f"{tag}-{c}" for c in ("b", "a", "B")]
        for name in names:
            self.kinesis.create_stream(StreamName=name, ShardCount=1)
            self.addCleanup(self.kinesis.delete_stream, StreamName=name)
        page = self.kinesis.list_streams(ExclusiveStartStreamName=tag, Limit=3)["StreamNames"]
        self.assertEqual(page, sorted(names), "byte order: upper case sorts first")
        # The AWS test: the stream's own name minus its last character lists the stream first.
        page = self.kinesis.list_streams(ExclusiveStartStreamName=names[1][:-1], Limit=1)
        self.assertEqual(page["StreamNames"], [names[2]])

    def test_list_streams_last_page_has_no_next_token(self):
        # No stream of any suite sorts after fifty z's.
        tail = self.kinesis.list_streams(ExclusiveStartStreamName="zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")
        self.assertEqual(tail["StreamNames"], [])
        self.assertFalse(tail["HasMoreStreams"])
        self.assertNotIn("NextToken", tail)
        self.assertEqual(tail.get("StreamSummaries", []), [])

    def test_list_streams_limit_above_100_returns_at_most_100(self):
        page = raw_call("ListStreams", {"Limit": 10000}).json()
        self.assertLessEqual(len(page["StreamNames"]), 100)


class RetentionTests(KinesisTestCase):

    def retention(self, name):
        return self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"]

    def test_increase_and_decrease_retention(self):
        name = self.create_stream("retention")
        # A retention change may leave the stream UPDATING for a while, as on AWS: wait after each.
        response = raw_call("IncreaseStreamRetentionPeriod", {"StreamName": name, "RetentionPeriodHours": 48})
        self.assertEqual((response.status, response.body), (200, b""))
        self.assertEqual(self.retention(name), 48)
        wait_active(name)
        self.kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=8760)
        self.assertEqual(self.retention(name), 8760)
        wait_active(name)
        self.kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
        self.assertEqual(self.retention(name), 24)
        wait_active(name)
        # The same value is accepted both ways as a no-op.
        self.kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
        wait_active(name)
        self.kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=24)
        self.assertEqual(self.retention(name), 24)

    def test_retention_bounds_messages(self):
        name = self.create_stream("retbounds")
        k = self.kinesis
        too_short = "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short."
        too_long = "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long."
        self.assert_client_error("InvalidArgumentException", too_short, k.increase_stream_retention_period, StreamName=name, RetentionPeriodHours=23)
        self.assert_client_error("InvalidArgumentException", too_short, k.decrease_stream_retention_period, StreamName=name, RetentionPeriodHours=23)
        self.assert_client_error("InvalidArgumentException", too_long, k.increase_stream_retention_period, StreamName=name, RetentionPeriodHours=8761)
        self.assert_client_error("InvalidArgumentException", too_long, k.decrease_stream_retention_period, StreamName=name, RetentionPeriodHours=8761)

    def test_retention_direction_messages(self):
        name = self.create_stream("retdir")
        k = self.kinesis
        k.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
        wait_active(name)
        self.assert_client_error(
            "InvalidArgumentException",
            f"Requested retention period (30 hours) for stream {name} can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API.",
            k.increase_stream_retention_period, StreamName=name, RetentionPeriodHours=30)
        self.assert_client_error(
            "InvalidArgumentException",
            f"Requested retention period (72 hours) for stream {name} can not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API.",
            k.decrease_stream_retention_period, StreamName=name, RetentionPeriodHours=72)
        self.assertEqual(self.retention(name), 48)

    def test_retention_validation_message(self):
        name = self.create_stream("retval")
        response = raw_call("IncreaseStreamRetentionPeriod", {"StreamName": name, "RetentionPeriodHours": -1})
        self.assert_raw_error(response, 400, "ValidationException",
                              "1 validation error detected: Value '-1' at 'retentionPeriodHours' failed to satisfy constraint: Member must have value greater than or equal to 1")


class LimitsAndMonitoringTests(KinesisTestCase):

    def test_describe_limits(self):
        wait_no_deletions()
        before = self.kinesis.describe_limits()
        for key in ("ShardLimit", "OpenShardCount", "OnDemandStreamCount", "OnDemandStreamCountLimit"):
            self.assertIsInstance(before[key], int, key)
        self.assertGreaterEqual(before["ShardLimit"], before["OpenShardCount"])
        self.create_stream("limits", shard_count=3)
        after = self.kinesis.describe_limits()
        self.assertEqual(after["OpenShardCount"], before["OpenShardCount"] + 3)
        body = raw_call("DescribeLimits", {}).json()
        self.assertTrue({"ShardLimit", "OpenShardCount", "OnDemandStreamCount", "OnDemandStreamCountLimit"} <= set(body))

    def test_shard_limit_exceeded(self):
        wait_no_deletions()
        limits = self.kinesis.describe_limits()
        extra = limits["ShardLimit"] - limits["OpenShardCount"] + 1
        name = unique_name("overlimit")
        self.addCleanup(delete_quietly, name)
        self.assert_client_error(
            "LimitExceededException",
            f"This request would exceed the shard limit for the account {ACCOUNT} in {REGION}. "
            f"Current shard count for the account: {limits['OpenShardCount']}. Limit: {limits['ShardLimit']}. "
            f"Number of additional shards that would have resulted from this request: {extra}. Refer to the AWS Service "
            "Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and "
            "how to request higher limits.",
            self.kinesis.create_stream, StreamName=name, ShardCount=extra)
        self.assert_client_error("ResourceNotFoundException", None, self.kinesis.describe_stream_summary, StreamName=name)

    def test_enhanced_monitoring_enable_disable_and_all(self):
        name = self.create_stream("monitoring")
        k = self.kinesis
        enabled = k.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes", "OutgoingRecords"])
        self.assertEqual(enabled["StreamName"], name)
        self.assertEqual(enabled["CurrentShardLevelMetrics"], [])
        self.assertEqual(sorted(enabled["DesiredShardLevelMetrics"]), ["IncomingBytes", "OutgoingRecords"])
        described = k.describe_stream(StreamName=name)["StreamDescription"]["EnhancedMonitoring"]
        self.assertEqual(len(described), 1)
        self.assertEqual(sorted(described[0]["ShardLevelMetrics"]), ["IncomingBytes", "OutgoingRecords"])

        all_on = k.enable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
        self.assertEqual(sorted(all_on["CurrentShardLevelMetrics"]), ["IncomingBytes", "OutgoingRecords"])
        self.assertEqual(sorted(all_on["DesiredShardLevelMetrics"]), sorted(ALL_METRICS))
        self.assertNotIn("ALL", all_on["DesiredShardLevelMetrics"])

        less = k.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["IncomingBytes"])
        self.assertEqual(sorted(less["DesiredShardLevelMetrics"]), sorted(m for m in ALL_METRICS if m != "IncomingBytes"))
        none = k.disable_enhanced_monitoring(StreamName=name, ShardLevelMetrics=["ALL"])
        self.assertEqual(none["DesiredShardLevelMetrics"], [])
        summary = k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["EnhancedMonitoring"], [{"ShardLevelMetrics": []}])

    def test_enhanced_monitoring_output_has_stream_arn(self):
        name = self.create_stream("monarn")
        body = raw_call("EnableEnhancedMonitoring", {"StreamName": name, "ShardLevelMetrics": ["IteratorAgeMilliseconds"]}).json()
        self.assertEqual(body.get("StreamARN"), stream_arn(name))
        self.assertEqual(body["DesiredShardLevelMetrics"], ["IteratorAgeMilliseconds"])

    def test_enhanced_monitoring_enum_validation(self):
        name = self.create_stream("monenum")
        response = raw_call("EnableEnhancedMonitoring", {"StreamName": name, "ShardLevelMetrics": ["Bogus"]})
        self.assertEqual(response.status, 400)
        body = response.json()
        self.assertEqual(body["__type"], "ValidationException")
        self.assertIn("Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, "
                      "WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]",
                      body["message"])


class StreamArnTests(KinesisTestCase):
    """StreamARN accepted wherever AWS takes it in place of StreamName."""

    def test_stream_arn_in_place_of_stream_name(self):
        name = self.create_stream("arn", shard_count=2)
        arn = stream_arn(name)
        k = self.kinesis
        self.assertEqual(k.describe_stream(StreamARN=arn)["StreamDescription"]["StreamName"], name)
        self.assertEqual(k.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamName"], name)
        self.assertEqual(len(k.list_shards(StreamARN=arn)["Shards"]), 2)
        put = k.put_record(StreamARN=arn, PartitionKey="p", Data=b"by-arn")
        batch = k.put_records(StreamARN=arn, Records=[{"PartitionKey": "p", "Data": b"batch-by-arn"}])
        self.assertEqual(batch["FailedRecordCount"], 0)
        iterator = k.get_shard_iterator(StreamARN=arn, ShardId=put["ShardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
                                        StartingSequenceNumber=put["SequenceNumber"])["ShardIterator"]
        records = k.get_records(ShardIterator=iterator, StreamARN=arn)["Records"]
        self.assertEqual([r["Data"] for r in records], [b"by-arn", b"batch-by-arn"])
        k.add_tags_to_stream(StreamARN=arn, Tags={"via": "arn"})
        self.assertEqual(k.list_tags_for_stream(StreamARN=arn)["Tags"], [{"Key": "via", "Value": "arn"}])
        k.remove_tags_from_stream(StreamARN=arn, TagKeys=["via"])
        self.assertEqual(k.list_tags_for_stream(StreamARN=arn)["Tags"], [])
        k.increase_stream_retention_period(StreamARN=arn, RetentionPeriodHours=36)
        wait_active(name)
        k.decrease_stream_retention_period(StreamARN=arn, RetentionPeriodHours=30)
        wait_active(name)
        self.assertEqual(k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"], 30)
        k.enable_enhanced_monitoring(StreamARN=arn, ShardLevelMetrics=["IncomingRecords"])
        k.disable_enhanced_monitoring(StreamARN=arn, ShardLevelMetrics=["IncomingRecords"])
        k.delete_stream(StreamARN=arn)
        wait_gone(name)

    def test_stream_arn_and_matching_name_together(self):
        name = self.create_stream("arnboth")
        summary = self.kinesis.describe_stream_summary(StreamName=name, StreamARN=stream_arn(name))
        self.assertEqual(summary["StreamDescriptionSummary"]["StreamName"], name)

    def test_stream_arn_of_missing_stream_is_not_found(self):
        name = unique_name("arnmissing")
        self.assert_client_error("ResourceNotFoundException", self.not_found(name),
                                 self.kinesis.describe_stream_summary, StreamARN=stream_arn(name))

    def test_malformed_stream_arn_fails_validation(self):
        response = raw_call("DescribeStreamSummary", {"StreamARN": "not-an-arn"})
        self.assert_raw_error(
            response, 400, "ValidationException",
            "1 validation error detected: Value 'not-an-arn' at 'streamARN' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+")
