"""Capacity modes: ON_DEMAND streams (4 even shards, no manual resharding) and UpdateStreamMode in both
directions. AWS's texts for resharding an on-demand stream were never captured (fact sheet §3.18), so
only the code is asserted."""

from kinesis_support import KinesisTestCase, expected_hash_ranges, stream_arn, wait_no_deletions

ON_DEMAND = {"StreamMode": "ON_DEMAND"}
PROVISIONED = {"StreamMode": "PROVISIONED"}


class CapacityModeTests(KinesisTestCase):

    def mode(self, name):
        return self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamModeDetails"]

    def wait_for_active(self, name):
        self.kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})

    def assert_resharding_refused(self, name):
        """SplitShard, MergeShards and UpdateShardCount all fail with ValidationException and change nothing."""
        before = self.shards(name)
        k = self.kinesis
        attempts = {
            "SplitShard": lambda: k.split_shard(StreamName=name, ShardToSplit=before[0]["ShardId"], NewStartingHashKey="2"),
            "MergeShards": lambda: k.merge_shards(StreamName=name, ShardToMerge=before[0]["ShardId"], AdjacentShardToMerge=before[1]["ShardId"]),
            "UpdateShardCount": lambda: k.update_shard_count(StreamName=name, TargetShardCount=len(before) + 1, ScalingType="UNIFORM_SCALING"),
        }
        for operation, attempt in attempts.items():
            with self.subTest(operation):
                self.assert_client_error("ValidationException", None, attempt)
        self.assertEqual(self.shards(name), before, "refused reshards change nothing")

    def test_create_on_demand_stream(self):
        name = self.create_stream("ondemand4", shard_count=None, StreamModeDetails=ON_DEMAND)
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["StreamModeDetails"], ON_DEMAND)
        self.assertEqual(summary["OpenShardCount"], 4)
        shards = self.shards(name)
        self.assertEqual([s["ShardId"] for s in shards], [f"shardId-{i:012d}" for i in range(4)])
        self.assertEqual([(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in shards],
                         expected_hash_ranges(4))
        self.assertEqual(self.kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamModeDetails"], ON_DEMAND)
        listed = self.kinesis.list_streams(ExclusiveStartStreamName=name[:-1], Limit=1)["StreamSummaries"]
        self.assertEqual([(s["StreamName"], s["StreamModeDetails"]) for s in listed], [(name, ON_DEMAND)])
        response = self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"on demand")
        self.assertIn(response["ShardId"], [s["ShardId"] for s in shards])

    def test_resharding_an_on_demand_stream(self):
        name = self.create_stream("ondemandreshard", shard_count=None, StreamModeDetails=ON_DEMAND)
        self.assert_resharding_refused(name)

    def test_update_stream_mode_both_directions(self):
        wait_no_deletions()
        on_demand_before = self.kinesis.describe_limits()["OnDemandStreamCount"]
        name = self.create_stream("modeswitch", shard_count=2)
        self.assertEqual(self.mode(name), PROVISIONED)

        response = self.kinesis.update_stream_mode(StreamARN=stream_arn(name), StreamModeDetails=ON_DEMAND)
        self.assertEqual(set(response), {"ResponseMetadata"}, "UpdateStreamMode answers an empty body")
        self.wait_for_active(name)
        self.assertEqual(self.mode(name), ON_DEMAND)
        self.assertEqual(self.kinesis.describe_limits()["OnDemandStreamCount"], on_demand_before + 1)
        self.assert_resharding_refused(name)

        self.kinesis.update_stream_mode(StreamARN=stream_arn(name), StreamModeDetails=PROVISIONED)
        self.wait_for_active(name)
        self.assertEqual(self.mode(name), PROVISIONED)
        self.assertEqual(self.kinesis.describe_limits()["OnDemandStreamCount"], on_demand_before)
        # Provisioned again: resharding works.
        first = self.shards(name)[0]
        self.kinesis.split_shard(StreamName=name, ShardToSplit=first["ShardId"], NewStartingHashKey="2")
        self.wait_for_active(name)
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"],
                         len(self.shards(name)) - 1)

    def test_update_stream_mode_of_a_missing_stream(self):
        missing = self.create_stream("modemissing") + "-missing"
        self.assert_client_error("ResourceNotFoundException", self.not_found(missing), self.kinesis.update_stream_mode,
                                 StreamARN=stream_arn(missing), StreamModeDetails=ON_DEMAND)
