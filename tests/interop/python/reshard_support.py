"""Shared by the resharding modules: hash-key arithmetic, shard-dict helpers and ReshardTestCase, whose
readers consume a stream as the KCL does (parents before children, following ChildShards), after the
fact or live while writers write and shards split and merge."""

import time

from kinesis_support import HASH_KEY_SPACE, KinesisTestCase, make_client
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

    # A subclass that sets SERVER_FLAGS gets a server of its own with those flags (runnel_process),
    # started before its tests and stopped after them; SERVER_LABEL names it in failure messages.
    SERVER_FLAGS = None
    SERVER_LABEL = "own"
    server = None
    _client = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.SERVER_FLAGS is None:
            return
        cls.server = RunnelProcess(*cls.SERVER_FLAGS)
        try:
            cls._client = make_client(cls.server.start())
        except BaseException:
            cls.server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            failures = cls.server.stop()
            if failures:
                raise AssertionError(f"the {cls.SERVER_LABEL} server logged internal failures:\n" + "\n".join(failures[:20]))
        super().tearDownClass()

    @property
    def kinesis(self):
        return self._client if self.server is not None else super().kinesis

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
