"""Reading across reshards as the KCL does: one key's records in order across 2 -> 4 -> 2 and 3 -> 5 -> 3,
and writers racing a split and a merge while a live consumer tails the stream: every acknowledged record
is read exactly once, where it was acknowledged, in each key's order."""

import collections
import threading

from kinesis_support import expected_hash_ranges, wait_until
from reshard_support import HALF, ReshardTestCase, hash_range, shard_id


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
