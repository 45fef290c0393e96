"""Stream states around resharding (UPDATING until the waiter sees ACTIVE, ResourceInUseException meanwhile)
and the account's shard limit, on a Runnel server of this module's own (runnel_process): the shared server
has no --update-stream-delay, so UPDATING is never seen there, and a small --shard-limit would disturb the
other suites."""

import time

from kinesis_support import ACCOUNT, stream_arn
from reshard_support import HALF, QUARTER, ReshardTestCase, hash_range, shard_id


class StreamStatusTransitionTests(ReshardTestCase):
    """On a server of our own with --update-stream-delay, so that UPDATING can be seen, and a small
    --shard-limit."""

    UPDATE_DELAY_MS = 500
    SHARD_LIMIT = 6
    SERVER_FLAGS = ("--limits", "off", "--update-stream-delay", UPDATE_DELAY_MS, "--shard-limit", SHARD_LIMIT)
    SERVER_LABEL = "UPDATING-delay"

    def in_use(self, name):
        return f"Stream {name} under account {ACCOUNT} not ACTIVE, instead in state UPDATING"

    def test_split_makes_the_stream_updating_until_the_waiter_sees_active(self):
        name = self.create_stream("updating", shard_count=2)
        k = self.kinesis
        k.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(QUARTER))
        self.assertEqual(self.status(name), "UPDATING")
        self.assertEqual(k.describe_stream(StreamName=name)["StreamDescription"]["StreamStatus"], "UPDATING")
        # kinesalite's AWS tests: no second reshard while UPDATING, but writes go on.
        self.assert_client_error("ResourceInUseException", self.in_use(name), k.split_shard,
                                 StreamName=name, ShardToSplit=shard_id(1), NewStartingHashKey=str(HALF + QUARTER))
        self.assert_client_error("ResourceInUseException", self.in_use(name), k.merge_shards,
                                 StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1))
        self.assert_client_error("ResourceInUseException", self.in_use(name), k.update_shard_count,
                                 StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
        self.assert_client_error("ResourceInUseException", None, k.update_stream_mode,
                                 StreamARN=stream_arn(name), StreamModeDetails={"StreamMode": "ON_DEMAND"})
        shard, sequence = self.put(name, b"while updating", ExplicitHashKey=str(HALF))
        self.assertEqual(shard, shard_id(1))
        iterator = k.get_shard_iterator(StreamName=name, ShardId=shard_id(1), ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.assertEqual([r["SequenceNumber"] for r in k.get_records(ShardIterator=iterator)["Records"]], [sequence])

        started = time.monotonic()
        self.wait_for_active(name)
        self.assertLess(time.monotonic() - started, 10, "the waiter saw ACTIVE within the update delay")
        self.assertEqual(self.status(name), "ACTIVE")
        k.split_shard(StreamName=name, ShardToSplit=shard_id(1), NewStartingHashKey=str(HALF + QUARTER))
        self.wait_for_active(name)
        self.assertEqual(len(self.open_shards(name)), 4)

    def test_a_split_shows_at_the_switch_back_to_active_as_on_aws(self):
        # AWS applies a reshard when the stream returns to ACTIVE: while UPDATING, ListShards and DescribeStream
        # show the parents alone, open, and they take the writes; then the children appear and the parent closes.
        name = self.create_stream("switch", shard_count=1)
        k = self.kinesis
        k.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(HALF))
        self.assertEqual(self.status(name), "UPDATING")
        listed = k.list_shards(StreamName=name)["Shards"]
        self.assertEqual([s["ShardId"] for s in listed], [shard_id(0)])
        self.assertNotIn("EndingSequenceNumber", listed[0]["SequenceNumberRange"])
        self.assertEqual([s["ShardId"] for s in self.described_shards(name)], [shard_id(0)])
        shard, upper = self.put(name, b"upper half", ExplicitHashKey=str(HALF + 1))
        self.assertEqual(shard, shard_id(0), "the parent takes the writes while UPDATING")

        self.wait_for_active(name)
        shards = k.list_shards(StreamName=name)["Shards"]
        self.assertEqual([s["ShardId"] for s in shards], [shard_id(0), shard_id(1), shard_id(2)])
        ending = int(shards[0]["SequenceNumberRange"]["EndingSequenceNumber"])
        self.assertGreaterEqual(ending, int(upper))
        self.assertTrue(all(int(s["SequenceNumberRange"]["StartingSequenceNumber"]) > ending for s in shards[1:]))
        shard, _ = self.put(name, b"upper half again", ExplicitHashKey=str(HALF + 1))
        self.assertEqual(shard, shard_id(2))

    def test_every_reshard_and_mode_change_passes_through_updating(self):
        name = self.create_stream("phases", shard_count=2)
        k = self.kinesis
        steps = {
            "MergeShards": lambda: k.merge_shards(StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1)),
            "UpdateShardCount": lambda: k.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING"),
            "UpdateStreamMode": lambda: k.update_stream_mode(StreamARN=stream_arn(name), StreamModeDetails={"StreamMode": "ON_DEMAND"}),
        }
        for operation, step in steps.items():
            with self.subTest(operation):
                step()
                self.assertEqual(self.status(name), "UPDATING", operation)
                self.wait_for_active(name)
                self.assertEqual(self.status(name), "ACTIVE", operation)

    def test_reshards_past_the_shard_limit(self):
        limit = self.SHARD_LIMIT
        name = self.create_stream("shardlimit", shard_count=limit - 1)
        self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey="2")
        self.wait_for_active(name)
        self.assertEqual(self.kinesis.describe_limits()["OpenShardCount"], limit, "a split adds one open shard")
        self.assert_client_error(
            "LimitExceededException",
            f"This request would exceed the shard limit for the account {ACCOUNT} in us-east-1. Current shard count for the account: {limit}. "
            f"Limit: {limit}. Number of additional shards that would have resulted from this request: 1. Refer to the AWS Service Limits page "
            "(http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
            self.kinesis.split_shard, StreamName=name, ShardToSplit=shard_id(1), NewStartingHashKey=str(hash_range(self.shards(name)[1])[0] + 2))
        # The shard limit is reported before the doubling rule (kinesalite's AWS test).
        self.assert_client_error(
            "LimitExceededException",
            f"Target shard count or number of open shards cannot be greater than {limit}. Current open shard count: {limit}, Target shard count: {limit + 1}",
            self.kinesis.update_shard_count, StreamName=name, TargetShardCount=limit + 1, ScalingType="UNIFORM_SCALING")
        # Merging frees a shard, after which a split fits again.
        self.kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(limit - 1), AdjacentShardToMerge=shard_id(limit))
        self.wait_for_active(name)
        self.assertEqual(self.kinesis.describe_limits()["OpenShardCount"], limit - 1, "a merge frees one open shard")
        self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(1), NewStartingHashKey=str(hash_range(self.shards(name)[1])[0] + 2))
        self.wait_for_active(name)
        self.assertEqual(len(self.open_shards(name)), limit)
