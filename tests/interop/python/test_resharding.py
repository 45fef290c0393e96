"""SplitShard, MergeShards and UpdateShardCount as a boto3 client sees them: the lineage in DescribeStream
and ListShards (every ShardFilter type), hash ranges, sequence numbers across a reshard, ChildShards at the
end of a closed shard, and the errors.

Message texts are AWS's as captured: fact sheet §3.18, kinesalite's tests run against AWS
(test/splitShard.js, test/mergeShards.js, test/updateShardCount.js), and kinesalite issue #109 for the
text of splitting a closed shard. Where AWS's text was never captured only the error code is asserted.
Reading across reshards is in test_reshard_reading.py; UPDATING and the shard limit, on a server of their
own, in test_reshard_states.py.
"""

import datetime
import math
import time

from kinesis_support import ACCOUNT, expected_hash_ranges, stream_arn
from reshard_support import (HALF, QUARTER, TOP_HASH_KEY, ReshardTestCase, ending_sequence, hash_range, ids, is_open,
                             shard_id, starting_sequence)


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
