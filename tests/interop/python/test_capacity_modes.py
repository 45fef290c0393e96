"""Capacity modes: ON_DEMAND streams (4 even shards, no manual resharding, scaling by themselves) and
UpdateStreamMode in both directions. AWS's texts for resharding an on-demand stream were never captured
(fact sheet §3.18), so only the code is asserted. AWS's own scaling policy is undocumented; the scaling test
follows Runnel's (docs/compatibility.md) on a server of its own with short windows."""

import collections
import time

from kinesis_support import KinesisTestCase, expected_hash_ranges, stream_arn, wait_no_deletions, wait_until
from reshard_support import ReshardTestCase, hash_range, ids, is_open, shard_id

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


class OnDemandScalingTests(ReshardTestCase):
    """ON_DEMAND streams scaling themselves, on a server of our own whose scaler reacts within seconds:
    a 2 s measuring window (checked every 0.5 s), 1 s cooldown, 2 s of cold before merging back, and a shard
    capacity of 100 records a second so that a little traffic makes a shard hot (limits stay off)."""

    SERVER_FLAGS = ("--limits", "off", "--shard-write-records", 100, "--on-demand-window", 2,
                    "--on-demand-cooldown", 1, "--on-demand-scale-down-after", 2)
    SERVER_LABEL = "on-demand"

    def test_a_hot_shard_splits_and_a_cold_stream_merges_back_to_four(self):
        name = self.create_stream("autoscale", shard_count=None, StreamModeDetails=ON_DEMAND)
        self.assertEqual(ids(self.open_shards(name)), [shard_id(i) for i in range(4)])
        first_range = hash_range(self.shards(name)[0])
        step = (first_range[1] - first_range[0]) // 16
        # 16 keys spread over shard 0's range, so that both halves of a split get some.
        hash_keys = {f"hot-{i}": str(first_range[0] + i * step) for i in range(16)}
        written = []

        def write(round_number):
            batch = [{"PartitionKey": key, "ExplicitHashKey": hash_key, "Data": f"{round_number}-{key}".encode()}
                     for key, hash_key in hash_keys.items()]
            result = self.kinesis.put_records(StreamName=name, Records=batch)
            self.assertEqual(result["FailedRecordCount"], 0)
            written.extend((e["PartitionKey"], e["Data"], r["ShardId"], r["SequenceNumber"]) for e, r in zip(batch, result["Records"]))

        # ~300 records a second into one shard of capacity 100: it must split within a few seconds.
        deadline = time.monotonic() + 15
        split = False
        round_number = 0
        while time.monotonic() < deadline:
            write(round_number)
            round_number += 1
            time.sleep(0.05)
            if round_number % 5 == 0 and len(self.open_shards(name)) > 4:
                split = True
                break
        self.assertTrue(split, f"the hot shard was not split within 15 s ({round_number} rounds of {len(hash_keys)} records)")
        for extra in range(3):  # writes go on into the children
            write(f"after-{extra}")
        shards = self.list_all(name)
        self.assert_lineage_is_valid(shards)
        closed = [s for s in shards if not is_open(s)]
        self.assertEqual(ids(closed), [shard_id(0)], "the hot shard, and only it, was split")
        children = [s for s in shards if s.get("ParentShardId") == shard_id(0)]
        self.assertEqual(sorted(hash_range(c) for c in children),
                         [(first_range[0], first_range[0] + (first_range[1] - first_range[0]) // 2),
                          (first_range[0] + (first_range[1] - first_range[0]) // 2 + 1, first_range[1])], "split in the middle")
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamModeDetails"], ON_DEMAND)

        # Quiet now: after 2 s cold the stream merges an adjacent pair, back to 4 and no further.
        wait_until(lambda: len(self.open_shards(name)) == 4, "the cold stream to merge back to 4 shards", seconds=15, interval=0.25)
        shards = self.list_all(name)
        self.assert_lineage_is_valid(shards)
        self.assertEqual(len([s for s in shards if "AdjacentParentShardId" in s]), 1, "one merge")

        consumed, _ = self.consume_in_lineage_order(name)
        read = [(r["PartitionKey"], r["Data"], shard, r["SequenceNumber"]) for shard, r in consumed]
        self.assertEqual(collections.Counter(read), collections.Counter(written), "every record exactly once, where acknowledged")
        for key in hash_keys:
            self.assertEqual([r for r in read if r[0] == key], [w for w in written if w[0] == key], f"order of {key}")
