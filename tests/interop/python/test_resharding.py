"""SplitShard, MergeShards and UpdateShardCount as a boto3 client sees them: the lineage in DescribeStream and
ListShards (every ShardFilter type), sequence numbers across a reshard, ChildShards at the end of a closed
shard, and reading in order across reshards as the KCL does (parents before children), with and without
writers racing the reshard.

Message texts are AWS's as captured: fact sheet §3.18, kinesalite's tests run against AWS
(test/splitShard.js, test/mergeShards.js, test/updateShardCount.js), and kinesalite issue #109 for the
text of splitting a closed shard. Where AWS's text was never captured only the error code is asserted.

StreamStatusTransitionTests starts a Runnel server of its own (runnel_process), because the UPDATING state
and the shard limit need settings the shared server does not have.
"""

import collections
import datetime
import math
import threading
import time

from botocore.exceptions import ClientError

from kinesis_support import (ACCOUNT, HASH_KEY_SPACE, KinesisTestCase, expected_hash_ranges, make_client, stream_arn,
                             wait_until)
from runnel_process import RunnelProcess

TOP_HASH_KEY = HASH_KEY_SPACE - 1
HALF = HASH_KEY_SPACE // 2
QUARTER = HASH_KEY_SPACE // 4
# Waiters poll quickly here: a Runnel reshard is ACTIVE again within --update-stream-delay.
FAST_WAITER = {"Delay": 0.1, "MaxAttempts": 100}


def shard_id(index):
    return f"shardId-{index:012d}"


def ids(shards):
    return [s["ShardId"] for s in shards]


def hash_range(shard):
    r = shard["HashKeyRange"]
    return int(r["StartingHashKey"]), int(r["EndingHashKey"])


def parents_of(shard):
    return [p for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")) if p]


def is_open(shard):
    return "EndingSequenceNumber" not in shard["SequenceNumberRange"]


def starting_sequence(shard):
    return int(shard["SequenceNumberRange"]["StartingSequenceNumber"])


def ending_sequence(shard):
    return int(shard["SequenceNumberRange"]["EndingSequenceNumber"])


class ReshardTestCase(KinesisTestCase):
    """Helpers shared by the resharding tests: listings, waiters, tiling and a KCL-like reader."""

    def wait_for_active(self, name):
        """The stream_exists waiter (DescribeStream until ACTIVE), polling fast but bounded."""
        self.kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig=FAST_WAITER)

    def status(self, name):
        return self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]

    def list_all(self, name, **kwargs):
        """Every page of ListShards (at most 20 pages)."""
        page = self.kinesis.list_shards(StreamName=name, **kwargs)
        shards = page["Shards"]
        for _ in range(20):
            if "NextToken" not in page:
                return shards
            page = self.kinesis.list_shards(NextToken=page["NextToken"])
            shards += page["Shards"]
        raise AssertionError("ListShards did not end within 20 pages")

    def open_shards(self, name):
        return self.list_all(name, ShardFilter={"Type": "AT_LATEST"})

    def described_shards(self, name):
        """Every shard DescribeStream lists, following HasMoreShards (at most 20 pages)."""
        description = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        shards = description["Shards"]
        for _ in range(20):
            if not description["HasMoreShards"]:
                return shards
            description = self.kinesis.describe_stream(StreamName=name, ExclusiveStartShardId=shards[-1]["ShardId"])["StreamDescription"]
            shards += description["Shards"]
        raise AssertionError("DescribeStream did not end within 20 pages")

    def assert_tiles_key_space(self, shards):
        """The shards' hash key ranges cover 0..2^128-1 exactly: no gap, no overlap."""
        ranges = sorted(hash_range(s) for s in shards)
        self.assertTrue(ranges, "no shards")
        self.assertEqual(ranges[0][0], 0, ranges)
        for (_, end), (start, _) in zip(ranges, ranges[1:]):
            self.assertEqual(start, end + 1, f"gap or overlap in {ranges}")
        self.assertEqual(ranges[-1][1], TOP_HASH_KEY, ranges)

    def assert_lineage_is_valid(self, shards):
        """Every shard has at most two parents, which exist, have smaller ids, are closed, and whose ranges
        hold the child's range; the open shards tile the key space."""
        by_id = {s["ShardId"]: s for s in shards}
        for shard in shards:
            parents = parents_of(shard)
            self.assertLessEqual(len(parents), 2, shard)
            if "AdjacentParentShardId" in shard:
                self.assertIn("ParentShardId", shard, "an adjacent parent without a parent")
            for parent in parents:
                self.assertIn(parent, by_id, f"{shard['ShardId']} names a parent that is not listed")
                self.assertLess(parent, shard["ShardId"], "a parent's id sorts before its child's")
                self.assertFalse(is_open(by_id[parent]), f"parent {parent} of {shard['ShardId']} is still open")
            if parents:
                start, end = hash_range(shard)
                union = sorted(hash_range(by_id[p]) for p in parents)
                self.assertTrue(union[0][0] <= start and end <= union[-1][1], f"{shard['ShardId']} {start}..{end} is outside its parents {union}")
                if len(union) == 2:
                    self.assertEqual(union[0][1] + 1, union[1][0], f"merged parents are not adjacent: {union}")
        self.assert_tiles_key_space([s for s in shards if is_open(s)])

    def put(self, name, data, partition_key="k", **kwargs):
        response = self.kinesis.put_record(StreamName=name, PartitionKey=partition_key, Data=data, **kwargs)
        return response["ShardId"], response["SequenceNumber"]

    def read_shard_to_end(self, name, shard_id, closed, limit=None):
        """One shard from TRIM_HORIZON as a KCL record processor reads it: a closed shard until GetRecords
        leaves out NextShardIterator (returning the ChildShards of that last page), an open one until an empty
        page at MillisBehindLatest 0. At most 100 calls."""
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id,
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = []
        for _ in range(100):
            page = self.kinesis.get_records(ShardIterator=iterator, **({"Limit": limit} if limit else {}))
            records += page["Records"]
            if "NextShardIterator" not in page:
                self.assertTrue(closed, f"open shard {shard_id} returned no NextShardIterator")
                self.assertIn("ChildShards", page, f"the end of closed shard {shard_id} came without ChildShards")
                return records, page["ChildShards"]
            self.assertNotIn("ChildShards", page, f"ChildShards before the end of {shard_id}")
            iterator = page["NextShardIterator"]
            if not closed and not page["Records"] and page["MillisBehindLatest"] == 0:
                return records, []
        raise AssertionError(f"shard {shard_id} did not end within 100 GetRecords calls")

    def consume_in_lineage_order(self, name):
        """Reads the whole stream as the KCL does: the shards open at the trim horizon first, then each child
        (from the ChildShards of GetRecords) once all its parents are read to their end. Returns the
        [(shard id, record)] in that order and the shards in the order they were read; checks that every
        listed shard was read and that ChildShards tells the same lineage as ListShards."""
        listed = {s["ShardId"]: s for s in self.list_all(name)}
        roots = ids(self.list_all(name, ShardFilter={"Type": "AT_TRIM_HORIZON"}))
        parents = {root: [] for root in roots}
        waiting = list(roots)
        finished = []
        consumed = []
        for _ in range(len(listed) + 1):
            if not waiting:
                break
            ready = next((s for s in waiting if all(p in finished for p in parents[s])), None)
            self.assertIsNotNone(ready, f"no shard can be read: waiting {waiting} (parents {parents}), finished {finished}")
            waiting.remove(ready)
            self.assertIn(ready, listed, f"ChildShards named {ready}, which ListShards does not list")
            records, children = self.read_shard_to_end(name, ready, closed=not is_open(listed[ready]))
            consumed += [(ready, r) for r in records]
            finished.append(ready)
            for child in children:
                child_id = child["ShardId"]
                if child_id in parents:
                    self.assertEqual(sorted(parents[child_id]), sorted(child["ParentShards"]), f"ParentShards of {child_id} differ between its parents")
                parents[child_id] = child["ParentShards"]
                self.assertEqual(hash_range(child), hash_range(listed[child_id]), f"ChildShards range of {child_id}")
                if child_id not in finished and child_id not in waiting:
                    waiting.append(child_id)
        self.assertEqual(waiting, [], "the lineage did not end")
        self.assertEqual(sorted(finished), sorted(listed), "shards read by following ChildShards vs shards listed")
        for shard_id_, shard in listed.items():
            self.assertEqual(sorted(parents[shard_id_]), sorted(parents_of(shard)), f"lineage of {shard_id_}: ChildShards vs ListShards")
        return consumed, finished


    def tail_in_lineage_order(self, name, writers_done, seconds=30.0):
        """A live consumer, as one KCL worker: polls each readable shard in turn (readable once every parent
        was read to its end, from the ChildShards of GetRecords), and stops once `writers_done` is set and two
        whole rounds found nothing new. Safe to run in a thread: it raises AssertionError rather than using
        the test's asserts. Returns [(shard id, record)] in the order read."""
        k = self.kinesis

        def iterator_of(shard):
            return k.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

        iterators = {shard: iterator_of(shard) for shard in ids(k.list_shards(StreamName=name, ShardFilter={"Type": "AT_TRIM_HORIZON"})["Shards"])}
        finished, waiting, consumed = set(), {}, []
        quiet_rounds = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            quiet = True
            for shard in list(iterators):
                page = k.get_records(ShardIterator=iterators[shard])
                consumed += [(shard, r) for r in page["Records"]]
                if page["Records"] or page["MillisBehindLatest"] > 0:
                    quiet = False
                if "NextShardIterator" in page:
                    if "ChildShards" in page:
                        raise AssertionError(f"ChildShards before the end of {shard}")
                    iterators[shard] = page["NextShardIterator"]
                    continue
                if "ChildShards" not in page:
                    raise AssertionError(f"the end of {shard} came without ChildShards")
                quiet = False
                del iterators[shard]
                finished.add(shard)
                for child in page["ChildShards"]:
                    if child["ShardId"] not in finished and child["ShardId"] not in iterators:
                        waiting[child["ShardId"]] = child["ParentShards"]
            for child, parents in list(waiting.items()):
                if all(p in finished for p in parents):
                    iterators[child] = iterator_of(child)
                    del waiting[child]
                    quiet = False
            quiet_rounds = quiet_rounds + 1 if quiet and writers_done.is_set() else 0
            if quiet_rounds >= 2:
                if waiting:
                    raise AssertionError(f"children never became readable: {waiting}")
                return consumed
            if quiet:
                time.sleep(0.01)
        raise AssertionError(f"the live consumer did not catch up within {seconds} s")


class SplitShardTests(ReshardTestCase):

    def test_split_shard_lineage_ranges_and_sequence_numbers(self):
        name = self.create_stream("split", shard_count=2)
        before = self.shards(name)
        parent = before[0]
        start, end = hash_range(parent)
        self.assertEqual((start, end), (0, HALF - 1))
        parent_sequences = []
        for i in range(3):
            shard, sequence = self.put(name, f"parent-{i}".encode(), ExplicitHashKey=str(i))
            self.assertEqual(shard, shard_id(0))
            parent_sequences.append(int(sequence))

        response = self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(QUARTER))
        self.assertEqual(set(response), {"ResponseMetadata"}, "SplitShard answers an empty body")
        self.wait_for_active(name)

        after = self.described_shards(name)
        self.assertEqual(ids(after), [shard_id(i) for i in range(4)])
        closed, untouched, low, high = after
        self.assertEqual(closed["HashKeyRange"], parent["HashKeyRange"])
        self.assertFalse(is_open(closed), "the split parent has an EndingSequenceNumber")
        self.assertEqual(untouched, before[1], "the other shard is unchanged")
        for child in (low, high):
            self.assertEqual(child["ParentShardId"], shard_id(0))
            self.assertNotIn("AdjacentParentShardId", child)
            self.assertTrue(is_open(child))
        self.assertEqual(hash_range(low), (0, QUARTER - 1))
        self.assertEqual(hash_range(high), (QUARTER, HALF - 1))
        self.assertEqual(closed["SequenceNumberRange"]["StartingSequenceNumber"], parent["SequenceNumberRange"]["StartingSequenceNumber"])
        self.assertGreaterEqual(ending_sequence(closed), max(parent_sequences), "EndingSequenceNumber covers every parent record")
        for child in (low, high):
            self.assertGreater(starting_sequence(child), max(parent_sequences), f"{child['ShardId']} starts above every parent record")
            self.assertGreater(starting_sequence(child), ending_sequence(closed), f"{child['ShardId']} starts above the parent's end")
        self.assert_lineage_is_valid(after)
        self.assertEqual(ids(self.open_shards(name)), [shard_id(1), shard_id(2), shard_id(3)])

        # The same hash keys now land on the children, above the parent's sequence numbers.
        shard, sequence = self.put(name, b"child", ExplicitHashKey="0")
        self.assertEqual(shard, shard_id(2))
        self.assertGreater(int(sequence), max(parent_sequences))
        shard, _ = self.put(name, b"child", ExplicitHashKey=str(QUARTER))
        self.assertEqual(shard, shard_id(3))
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"], 3)

    def test_split_at_the_smallest_allowed_hash_key_and_by_arn(self):
        # kinesalite's AWS test: NewStartingHashKey 2 on a shard starting at 0 is the lowest that works.
        name = self.create_stream("splitmin")
        self.kinesis.split_shard(StreamARN=stream_arn(name), ShardToSplit="anyprefix-0", NewStartingHashKey="2")
        self.wait_for_active(name)
        shards = self.described_shards(name)
        self.assertEqual([hash_range(s) for s in shards], [(0, TOP_HASH_KEY), (0, 1), (2, TOP_HASH_KEY)])
        self.assertEqual([s.get("ParentShardId") for s in shards], [None, shard_id(0), shard_id(0)])

    def test_new_shard_ids_are_never_reused(self):
        name = self.create_stream("splitids", shard_count=2)
        seen = ids(self.shards(name))
        steps = [
            lambda: self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(1), NewStartingHashKey=str(HALF + QUARTER)),
            lambda: self.kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(2)),
            lambda: self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(4), NewStartingHashKey=str(QUARTER)),
            lambda: self.kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(6), AdjacentShardToMerge=shard_id(3)),
        ]
        for step in steps:
            step()
            self.wait_for_active(name)
            now = ids(self.list_all(name))
            self.assertEqual(now[:len(seen)], seen, "earlier shards keep their ids")
            new = now[len(seen):]
            self.assertTrue(new, "a reshard creates shards")
            self.assertTrue(all(n not in seen and n > seen[-1] for n in new), f"new ids {new} after {seen}")
            seen = now
        self.assertEqual(seen, [shard_id(i) for i in range(8)])
        self.assert_lineage_is_valid(self.list_all(name))

    def test_split_hash_key_outside_the_shard(self):
        name = self.create_stream("splitbad", shard_count=2)
        for key in ("0", "1", str(HALF - 1), str(HALF), str(TOP_HASH_KEY)):
            with self.subTest(key):
                self.assert_client_error(
                    "InvalidArgumentException",
                    f"NewStartingHashKey {key} used in SplitShard() on shard {shard_id(0)} in stream {name} under account {ACCOUNT} "
                    f"is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey {HALF - 1}.",
                    self.kinesis.split_shard, StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=key)
        self.assertEqual(ids(self.list_all(name)), [shard_id(0), shard_id(1)], "a refused split changes nothing")

    def test_split_unknown_shard_or_stream(self):
        name = self.create_stream("splitunknown")
        for requested, reported in ((shard_id(9), shard_id(9)), ("shardId-9", shard_id(9)), ("ABKLFD8", "ABKLFD8")):
            with self.subTest(requested):
                self.assert_client_error("ResourceNotFoundException",
                                         f"Could not find shard {reported} in stream {name} under account {ACCOUNT}.",
                                         self.kinesis.split_shard, StreamName=name, ShardToSplit=requested, NewStartingHashKey="2")
        missing = name + "-missing"
        self.assert_client_error("ResourceNotFoundException", self.not_found(missing),
                                 self.kinesis.split_shard, StreamName=missing, ShardToSplit=shard_id(0), NewStartingHashKey="2")

    def test_splitting_a_closed_shard(self):
        # AWS's text as quoted in kinesalite issue #109.
        name = self.create_stream("splitclosed")
        self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(HALF))
        self.wait_for_active(name)
        self.assert_client_error(
            "InvalidArgumentException",
            f"Shard {shard_id(0)} in stream {name} under account {ACCOUNT} has already been merged or split, "
            "and thus is not eligible for merging or splitting.",
            self.kinesis.split_shard, StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(QUARTER))
        self.assertEqual(len(self.list_all(name)), 3, "a refused split changes nothing")


class MergeShardsTests(ReshardTestCase):

    def test_merge_shards_lineage_and_union_range(self):
        # kinesalite's AWS test: three shards, merge 0 with 1.
        name = self.create_stream("merge", shard_count=3)
        before = self.shards(name)
        sequences = [int(self.put(name, b"parent", ExplicitHashKey=str(hash_range(before[i])[0]))[1]) for i in (0, 1, 1)]
        response = self.kinesis.merge_shards(StreamARN=stream_arn(name), ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1))
        self.assertEqual(set(response), {"ResponseMetadata"}, "MergeShards answers an empty body")
        self.wait_for_active(name)

        after = self.described_shards(name)
        self.assertEqual(ids(after), [shard_id(i) for i in range(4)])
        child = after[3]
        self.assertEqual(child["ParentShardId"], shard_id(0))
        self.assertEqual(child["AdjacentParentShardId"], shard_id(1))
        self.assertEqual(hash_range(child), (hash_range(before[0])[0], hash_range(before[1])[1]))
        self.assertFalse(is_open(after[0]))
        self.assertFalse(is_open(after[1]))
        self.assertEqual(after[2], before[2])
        self.assertTrue(is_open(child))
        self.assertGreater(starting_sequence(child), max(sequences))
        self.assertGreater(starting_sequence(child), max(ending_sequence(after[0]), ending_sequence(after[1])))
        self.assert_lineage_is_valid(after)
        shard, sequence = self.put(name, b"child", ExplicitHashKey=str(hash_range(before[1])[0]))
        self.assertEqual(shard, shard_id(3))
        self.assertGreater(int(sequence), max(sequences))
        self.assertEqual(ids(self.open_shards(name)), [shard_id(2), shard_id(3)])

    def test_merge_of_shards_that_are_not_adjacent(self):
        name = self.create_stream("mergefar", shard_count=3)
        self.assert_client_error(
            "InvalidArgumentException",
            f"Shards {shard_id(0)} and {shard_id(2)} in stream {name} under account {ACCOUNT} are not an adjacent pair of shards eligible for merging",
            self.kinesis.merge_shards, StreamName=name, ShardToMerge="shard-0", AdjacentShardToMerge="x-2")
        self.assert_client_error("InvalidArgumentException", None, self.kinesis.merge_shards,
                                 StreamName=name, ShardToMerge=shard_id(1), AdjacentShardToMerge=shard_id(1))
        self.assertEqual(len(self.list_all(name)), 3, "a refused merge changes nothing")

    def test_merge_with_adjacency_inverted(self):
        # kinesalite's AWS test "should return InvalidArgumentException if adjacency is inverted": the
        # adjacent shard must be the one right above ShardToMerge.
        name = self.create_stream("mergeinv", shard_count=3)
        self.assert_client_error(
            "InvalidArgumentException",
            f"Shards {shard_id(1)} and {shard_id(0)} in stream {name} under account {ACCOUNT} are not an adjacent pair of shards eligible for merging",
            self.kinesis.merge_shards, StreamName=name, ShardToMerge=shard_id(1), AdjacentShardToMerge=shard_id(0))

    def test_merge_unknown_shard_or_stream(self):
        name = self.create_stream("mergeunknown", shard_count=2)
        for first, second in ((shard_id(7), shard_id(1)), (shard_id(0), "shardId-7")):
            with self.subTest((first, second)):
                self.assert_client_error("ResourceNotFoundException",
                                         f"Could not find shard {shard_id(7)} in stream {name} under account {ACCOUNT}.",
                                         self.kinesis.merge_shards, StreamName=name, ShardToMerge=first, AdjacentShardToMerge=second)
        missing = name + "-missing"
        self.assert_client_error("ResourceNotFoundException", self.not_found(missing),
                                 self.kinesis.merge_shards, StreamName=missing, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1))

    def test_merging_a_closed_shard(self):
        name = self.create_stream("mergeclosed", shard_count=2)
        self.kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1))
        self.wait_for_active(name)
        # AWS's text was captured for SplitShard only; it names both operations.
        self.assert_client_error("InvalidArgumentException", None, self.kinesis.merge_shards,
                                 StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1))
        self.assertEqual(len(self.list_all(name)), 3)


class UpdateShardCountTests(ReshardTestCase):

    def scale(self, name, target):
        return self.kinesis.update_shard_count(StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING")

    def test_two_to_four_to_two(self):
        name = self.create_stream("scale", shard_count=2)
        self.assertEqual(ids(self.open_shards(name)), [shard_id(0), shard_id(1)])
        history = [shard_id(0), shard_id(1)]
        for current, target, total in ((2, 4, 6), (4, 2, 8)):
            with self.subTest(f"{current} to {target}"):
                response = self.scale(name, target)
                response.pop("ResponseMetadata")
                self.assertEqual(response, {"StreamName": name, "CurrentShardCount": current, "TargetShardCount": target,
                                            "StreamARN": stream_arn(name)})
                self.assertIn(self.status(name), ("UPDATING", "ACTIVE"))
                self.wait_for_active(name)
                open_shards = self.open_shards(name)
                self.assertEqual(len(open_shards), target)
                self.assertEqual(sorted(hash_range(s) for s in open_shards), expected_hash_ranges(target), "uniform scaling")
                self.assertTrue(set(ids(open_shards)).isdisjoint(history), "the open shards are new ones")
                history += ids(open_shards)
                self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["OpenShardCount"], target)
                everything = self.list_all(name)
                # Totals as AWS reaches them (moto's AWS-verified table, kinesalite): 2->4 splits each shard,
                # 4->2 merges pairs.
                self.assertEqual(len(everything), total)
                self.assert_lineage_is_valid(everything)
                self.assertEqual(self.described_shards(name), everything, "DescribeStream and ListShards agree")

    def test_scaling_limits(self):
        name = self.create_stream("scalelimit", shard_count=2)
        self.assert_client_error(
            "LimitExceededException",
            "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 2, Target shard count: 5",
            self.scale, name, 5)
        self.scale(name, 4)
        self.wait_for_active(name)
        self.assert_client_error(
            "LimitExceededException",
            "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 4, Target shard count: 1",
            self.scale, name, 1)
        self.assert_client_error(
            "LimitExceededException",
            "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 4, Target shard count: 9",
            self.scale, name, 9)
        self.assertEqual(len(self.open_shards(name)), 4, "refused scalings change nothing")

    def test_at_most_ten_scalings_a_day(self):
        # AWS: "Scale more than ten times per rolling 24-hour period per stream" is refused (text not captured).
        name = self.create_stream("scaleten")
        arn = stream_arn(name)
        for i in range(10):
            target = 2 if i % 2 == 0 else 1
            response = self.kinesis.update_shard_count(StreamARN=arn, TargetShardCount=target, ScalingType="UNIFORM_SCALING")
            self.assertEqual((response["CurrentShardCount"], response["TargetShardCount"]), (3 - target, target))
            self.wait_for_active(name)
        self.assert_client_error("LimitExceededException", None, self.scale, name, 2)
        self.assertEqual(len(self.open_shards(name)), 1)
        # Splits and merges are not scalings.
        self.kinesis.split_shard(StreamName=name, ShardToSplit=ids(self.open_shards(name))[0], NewStartingHashKey=str(HALF))
        self.wait_for_active(name)

    def test_update_shard_count_of_missing_stream(self):
        missing = self.create_stream("scalemissing") + "-missing"
        self.assert_client_error("ResourceNotFoundException", self.not_found(missing), self.scale, missing, 2)


class ChildShardsTests(ReshardTestCase):

    def test_get_records_at_the_end_of_a_closed_shard(self):
        name = self.create_stream("children", shard_count=2)
        written = [self.put(name, f"r{i}".encode(), ExplicitHashKey=str(i))[1] for i in range(3)]
        self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(QUARTER))
        self.wait_for_active(name)
        expected_children = [
            {"ShardId": shard_id(2), "ParentShards": [shard_id(0)], "HashKeyRange": {"StartingHashKey": "0", "EndingHashKey": str(QUARTER - 1)}},
            {"ShardId": shard_id(3), "ParentShards": [shard_id(0)], "HashKeyRange": {"StartingHashKey": str(QUARTER), "EndingHashKey": str(HALF - 1)}},
        ]

        # One record a page: pages with a NextShardIterator carry no ChildShards; the last page has no
        # NextShardIterator and names the children (AWS may need a few empty pages to get there).
        records, children = self.read_shard_to_end(name, shard_id(0), closed=True, limit=1)
        self.assertEqual([r["SequenceNumber"] for r in records], written)
        self.assertEqual([r["Data"] for r in records], [b"r0", b"r1", b"r2"])
        self.assertEqual(sorted(children, key=lambda c: c["ShardId"]), expected_children)

        # LATEST on a closed shard is its end: nothing to read, the children at once (bounded).
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="LATEST")["ShardIterator"]
        for _ in range(10):
            page = self.kinesis.get_records(ShardIterator=iterator)
            self.assertEqual(page["Records"], [])
            if "NextShardIterator" not in page:
                break
            iterator = page["NextShardIterator"]
        self.assertNotIn("NextShardIterator", page)
        self.assertEqual(sorted(page["ChildShards"], key=lambda c: c["ShardId"]), expected_children)

        # AT_SEQUENCE_NUMBER of the parent's last record: that record, then the end.
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="AT_SEQUENCE_NUMBER",
                                                   StartingSequenceNumber=written[-1])["ShardIterator"]
        page = self.kinesis.get_records(ShardIterator=iterator)
        self.assertEqual([r["SequenceNumber"] for r in page["Records"]], written[-1:])
        # AFTER_SEQUENCE_NUMBER of the last record, or of the parent's EndingSequenceNumber: straight to the end.
        ending = self.list_all(name)[0]["SequenceNumberRange"]["EndingSequenceNumber"]
        for sequence in (written[-1], ending):
            with self.subTest(after=sequence):
                iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                                           StartingSequenceNumber=sequence)["ShardIterator"]
                for _ in range(10):
                    page = self.kinesis.get_records(ShardIterator=iterator)
                    self.assertEqual(page["Records"], [])
                    if "NextShardIterator" not in page:
                        break
                    iterator = page["NextShardIterator"]
                self.assertEqual(sorted(page["ChildShards"], key=lambda c: c["ShardId"]), expected_children)

        # An open shard never shows ChildShards.
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(1), ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = self.kinesis.get_records(ShardIterator=iterator)
        self.assertIn("NextShardIterator", page)
        self.assertNotIn("ChildShards", page)

    def test_iterators_taken_before_the_split_reach_the_children(self):
        name = self.create_stream("childlate")
        k = self.kinesis
        caught_up = k.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="LATEST")["ShardIterator"]
        page = k.get_records(ShardIterator=caught_up)
        self.assertEqual(page["Records"], [])
        caught_up = page["NextShardIterator"]
        self.put(name, b"before the split", ExplicitHashKey="0")
        behind = k.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        k.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(HALF))
        self.wait_for_active(name)
        self.put(name, b"after the split", ExplicitHashKey="0")
        expected_children = [shard_id(1), shard_id(2)]
        for label, iterator, expected in (("caught up", caught_up, [b"before the split"]), ("behind", behind, [b"before the split"])):
            with self.subTest(label):
                records = []
                for _ in range(10):
                    page = k.get_records(ShardIterator=iterator)
                    records += page["Records"]
                    if "NextShardIterator" not in page:
                        break
                    iterator = page["NextShardIterator"]
                self.assertEqual([r["Data"] for r in records], expected, "the parent's records, not the child's")
                self.assertNotIn("NextShardIterator", page)
                self.assertEqual(sorted(c["ShardId"] for c in page["ChildShards"]), expected_children)

    def test_child_of_a_merge_names_both_parents(self):
        name = self.create_stream("childmerge", shard_count=2)
        self.kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1))
        self.wait_for_active(name)
        for parent in (shard_id(0), shard_id(1)):
            with self.subTest(parent):
                records, children = self.read_shard_to_end(name, parent, closed=True)
                self.assertEqual(records, [])
                self.assertEqual(len(children), 1)
                self.assertEqual(children[0]["ShardId"], shard_id(2))
                self.assertEqual(sorted(children[0]["ParentShards"]), [shard_id(0), shard_id(1)])
                self.assertEqual(children[0]["HashKeyRange"], {"StartingHashKey": "0", "EndingHashKey": str(TOP_HASH_KEY)})


class ShardFilterAfterReshardTests(ReshardTestCase):

    def test_every_shard_filter_type_after_a_split_and_a_merge(self):
        name = self.create_stream("filters", shard_count=2)
        created = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
        self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(QUARTER))  # 0 -> 2, 3
        self.wait_for_active(name)
        # boto3 sends whole epoch seconds, so the moment between the two reshards is a whole second.
        now = time.time()
        between = math.floor(now) + 1
        time.sleep(between - now + 0.15)
        self.kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(3), AdjacentShardToMerge=shard_id(1))  # 3 + 1 -> 4
        self.wait_for_active(name)
        moment = datetime.datetime.fromtimestamp(between, datetime.timezone.utc)

        expected = {
            "no filter": (None, [0, 1, 2, 3, 4]),
            "AT_LATEST": ({"Type": "AT_LATEST"}, [2, 4]),
            "AT_TRIM_HORIZON": ({"Type": "AT_TRIM_HORIZON"}, [0, 1]),
            "FROM_TRIM_HORIZON": ({"Type": "FROM_TRIM_HORIZON"}, [0, 1, 2, 3, 4]),
            "AT_TIMESTAMP between": ({"Type": "AT_TIMESTAMP", "Timestamp": moment}, [1, 2, 3]),
            "FROM_TIMESTAMP between": ({"Type": "FROM_TIMESTAMP", "Timestamp": moment}, [1, 2, 3, 4]),
            "FROM_TIMESTAMP creation": ({"Type": "FROM_TIMESTAMP", "Timestamp": created}, [0, 1, 2, 3, 4]),
            "AFTER_SHARD_ID": ({"Type": "AFTER_SHARD_ID", "ShardId": shard_id(1)}, [2, 3, 4]),
        }
        for kind, (shard_filter, indexes) in expected.items():
            with self.subTest(kind):
                arguments = {"ShardFilter": shard_filter} if shard_filter else {}
                self.assertEqual(ids(self.list_all(name, **arguments)), [shard_id(i) for i in indexes], kind)
        # Paging keeps the filter.
        first = self.kinesis.list_shards(StreamName=name, ShardFilter={"Type": "FROM_TIMESTAMP", "Timestamp": moment}, MaxResults=2)
        self.assertEqual(ids(first["Shards"]), [shard_id(1), shard_id(2)])
        self.assertEqual(ids(self.kinesis.list_shards(NextToken=first["NextToken"])["Shards"]), [shard_id(3), shard_id(4)])

    def test_describe_stream_shows_the_lineage(self):
        name = self.create_stream("lineage", shard_count=2)
        self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(1), NewStartingHashKey=str(HALF + QUARTER))  # 1 -> 2, 3
        self.wait_for_active(name)
        self.kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(2))  # 0 + 2 -> 4
        self.wait_for_active(name)
        shards = self.described_shards(name)
        lineage = [(s["ShardId"], s.get("ParentShardId"), s.get("AdjacentParentShardId"), is_open(s)) for s in shards]
        self.assertEqual(lineage, [
            (shard_id(0), None, None, False),
            (shard_id(1), None, None, False),
            (shard_id(2), shard_id(1), None, False),
            (shard_id(3), shard_id(1), None, True),
            (shard_id(4), shard_id(0), shard_id(2), True),
        ])
        self.assertEqual(hash_range(shards[4]), (0, HALF + QUARTER - 1))
        self.assert_lineage_is_valid(shards)
        self.assertEqual(shards, self.list_all(name))
        # DescribeStream pages over closed shards too.
        page = self.kinesis.describe_stream(StreamName=name, Limit=2, ExclusiveStartShardId=shard_id(1))["StreamDescription"]
        self.assertEqual((ids(page["Shards"]), page["HasMoreShards"]), ([shard_id(2), shard_id(3)], True))


class ReadingAcrossReshardsTests(ReshardTestCase):

    def test_one_key_reads_in_order_across_two_four_two(self):
        name = self.create_stream("ordered", shard_count=2)
        key = "the-ordered-key"
        others = [f"other-{i}" for i in range(6)]
        written = []  # (partition key, data, shard, sequence number) in the order acknowledged

        def write(phase):
            for i in range(5):
                data = f"{phase}-{i}".encode()
                shard, sequence = self.put(name, data, partition_key=key)
                written.append((key, data, shard, sequence))
            batch = [{"PartitionKey": k, "Data": f"{phase}-{k}".encode()} for k in others]
            results = self.kinesis.put_records(StreamName=name, Records=batch)
            self.assertEqual(results["FailedRecordCount"], 0)
            for entry, result in zip(batch, results["Records"]):
                written.append((entry["PartitionKey"], entry["Data"], result["ShardId"], result["SequenceNumber"]))

        write("before")
        for target, phase in ((4, "between"), (2, "after")):
            self.kinesis.update_shard_count(StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING")
            self.wait_for_active(name)
            write(phase)

        key_shards = [shard for k, _, shard, _ in written if k == key]
        self.assertEqual(len(set(key_shards)), 3, f"the key lands on one shard per generation: {key_shards}")

        consumed, order = self.consume_in_lineage_order(name)
        read = [(r["PartitionKey"], r["Data"], shard, r["SequenceNumber"]) for shard, r in consumed]
        self.assertEqual(collections.Counter(read), collections.Counter(written), "every record exactly once, where it was acknowledged")
        for partition_key in [key] + others:
            with self.subTest(partition_key):
                self.assertEqual([r for r in read if r[0] == partition_key], [w for w in written if w[0] == partition_key],
                                 "one key's records in the order written")
        the_key = [int(seq) for k, _, _, seq in read if k == key]
        self.assertEqual(the_key, sorted(the_key), "one key's sequence numbers increase across the reshards")

    def test_uneven_scaling_keeps_a_readable_lineage(self):
        # 3 -> 5 -> 3 needs shards that are split or merged again within one UpdateShardCount (AWS performs
        # it as single splits and merges); the lineage must still lead a reader through all of them.
        name = self.create_stream("uneven", shard_count=3)
        keys = [f"key-{i}" for i in range(12)]
        written = []

        def write(phase):
            batch = [{"PartitionKey": key, "Data": f"{phase}-{key}".encode()} for key in keys]
            results = self.kinesis.put_records(StreamName=name, Records=batch)
            self.assertEqual(results["FailedRecordCount"], 0)
            written.extend((e["PartitionKey"], e["Data"], r["ShardId"], r["SequenceNumber"]) for e, r in zip(batch, results["Records"]))

        write("three")
        for target in (5, 3):
            response = self.kinesis.update_shard_count(StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING")
            self.assertEqual(response["TargetShardCount"], target)
            self.wait_for_active(name)
            open_shards = self.open_shards(name)
            self.assertEqual(sorted(hash_range(s) for s in open_shards), expected_hash_ranges(target))
            self.assert_lineage_is_valid(self.list_all(name))
            write(str(target))

        consumed, _ = self.consume_in_lineage_order(name)
        read = [(r["PartitionKey"], r["Data"], shard, r["SequenceNumber"]) for shard, r in consumed]
        self.assertEqual(collections.Counter(read), collections.Counter(written), "every record exactly once")
        for key in keys:
            self.assertEqual([r for r in read if r[0] == key], [w for w in written if w[0] == key], f"order of {key}")

    def test_concurrent_writers_while_shards_split_and_merge(self):
        name = self.create_stream("racing")
        writers = 4
        max_requests = 400  # per writer; each stops earlier once told
        acknowledged = []  # (partition key, data, shard, sequence number)
        errors = []
        lock = threading.Lock()
        stop = threading.Event()
        client = self.kinesis  # botocore clients are thread-safe

        def writer(number):
            for i in range(max_requests):
                if stop.is_set():
                    return
                try:
                    if number % 2 == 0:
                        key, data = f"w{number}-k{i % 3}", f"w{number}-{i}".encode()
                        response = client.put_record(StreamName=name, PartitionKey=key, Data=data)
                        with lock:
                            acknowledged.append((key, data, response["ShardId"], response["SequenceNumber"]))
                    else:
                        batch = [{"PartitionKey": f"w{number}-k{j % 3}", "Data": f"w{number}-{i}-{j}".encode()} for j in range(5)]
                        response = client.put_records(StreamName=name, Records=batch)
                        with lock:
                            for entry, result in zip(batch, response["Records"]):
                                if "SequenceNumber" in result:
                                    acknowledged.append((entry["PartitionKey"], entry["Data"], result["ShardId"], result["SequenceNumber"]))
                                else:
                                    errors.append(f"PutRecords entry failed: {result}")
                except Exception as e:  # any failure is reported below; the record may or may not exist
                    with lock:
                        errors.append(repr(e))

        threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(writers)]
        writers_done = threading.Event()
        tailed = {}

        def tail():
            try:
                tailed["records"] = self.tail_in_lineage_order(name, writers_done)
            except BaseException as e:  # reported by the test below
                tailed["error"] = e

        tailer = threading.Thread(target=tail, daemon=True)
        for thread in threads:
            thread.start()
        tailer.start()
        try:
            def more_acknowledged(count):
                target = len(acknowledged) + count
                wait_until(lambda: len(acknowledged) >= target or not any(t.is_alive() for t in threads),
                           f"{count} more acknowledged writes", seconds=15, interval=0.005)

            more_acknowledged(60)
            self.kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(HALF))  # 0 -> 1, 2
            more_acknowledged(60)
            self.wait_for_active(name)
            self.kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(1), AdjacentShardToMerge=shard_id(2))  # 1 + 2 -> 3
            more_acknowledged(60)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
            writers_done.set()
            tailer.join(40)
        self.assertFalse(any(t.is_alive() for t in threads), "writers did not stop within 30 s")
        self.assertFalse(tailer.is_alive(), "the live consumer did not stop within 40 s")
        if "error" in tailed:
            raise tailed["error"]
        self.assertEqual(errors, [], "writes failed while the stream was resharded")
        shards_written = {shard for _, _, shard, _ in acknowledged}
        self.assertEqual(shards_written, {shard_id(i) for i in range(4)}, "writes landed before, between and after the reshards")

        consumed, _ = self.consume_in_lineage_order(name)
        read = [(r["PartitionKey"], r["Data"], shard, r["SequenceNumber"]) for shard, r in consumed]
        counts = collections.Counter(read)
        self.assertEqual([r for r, n in counts.items() if n > 1], [], "records read twice")
        self.assertEqual(set(acknowledged) - set(read), set(), "acknowledged records not read back")
        self.assertEqual(set(read) - set(acknowledged), set(), "records read that were never acknowledged")
        for key in sorted({k for k, _, _, _ in acknowledged}):
            # Each key has one writer, which waits for every acknowledgement: its order is the key's order.
            self.assertEqual([r for r in read if r[0] == key], [a for a in acknowledged if a[0] == key], f"order of {key}")
        # The consumer that read while the writers wrote and the shards split and merged saw the same.
        live = [(r["PartitionKey"], r["Data"], shard, r["SequenceNumber"]) for shard, r in tailed["records"]]
        self.assertEqual([r for r, n in collections.Counter(live).items() if n > 1], [], "records the live consumer read twice")
        self.assertEqual(set(live), set(read), "the live consumer vs a reader afterwards")
        for key in sorted({k for k, _, _, _ in acknowledged}):
            self.assertEqual([r for r in live if r[0] == key], [a for a in acknowledged if a[0] == key], f"live order of {key}")


class StreamStatusTransitionTests(ReshardTestCase):
    """On a server of our own with --update-stream-delay, so that UPDATING can be seen, and a small
    --shard-limit."""

    UPDATE_DELAY_MS = 500
    SHARD_LIMIT = 6
    server = None
    _client = None

    @classmethod
    def setUpClass(cls):
        cls.server = RunnelProcess("--limits", "off", "--update-stream-delay", cls.UPDATE_DELAY_MS, "--shard-limit", cls.SHARD_LIMIT)
        try:
            cls._client = make_client(cls.server.start())
        except BaseException:
            cls.server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        failures = cls.server.stop()
        if failures:
            raise AssertionError("the UPDATING-delay server logged internal failures:\n" + "\n".join(failures[:20]))

    @property
    def kinesis(self):
        return self._client

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
