"""The data plane through boto3: PutRecord, PutRecords, GetShardIterator, GetRecords."""

import base64
import concurrent.futures
import datetime
import decimal
import json
import os
import re
import time

from kinesis_support import (ACCOUNT, HASH_KEY_SPACE, KinesisTestCase, md5_hash_key, raw_call, shard_for,
                             unique_name, wait_active, wait_gone)

SEQUENCE_NUMBER = re.compile(r"0|[1-9]\d{0,128}")
EITHER_OR = ("Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber "
             "or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber.")
# Between 2^124 and 2^185: no version of AWS's sequence-number layout parses it (fact sheet 6.2).
UNPARSEABLE_SEQUENCE = "1" + "0" * 40


class PutRecordTests(KinesisTestCase):

    def test_put_record_response_shape(self):
        name = self.create_stream("putshape")
        response = raw_call("PutRecord", {"StreamName": name, "PartitionKey": "k", "Data": "aGVsbG8="})
        self.assertEqual(response.status, 200)
        body = response.json()
        # AWS leaves EncryptionType out on a stream that is not encrypted (captured from AWS by LocalStack's and
        # kinesalite's recorded tests); it sends KMS on an encrypted one.
        self.assertEqual(set(body), {"ShardId", "SequenceNumber"}, body)
        self.assertEqual(body["ShardId"], "shardId-000000000000")
        self.assertRegex(body["SequenceNumber"], SEQUENCE_NUMBER)
        self.assertIsInstance(body["SequenceNumber"], str)

    def test_partition_key_routes_by_md5_into_the_hash_range(self):
        name = self.create_stream("route", shard_count=4)
        shards = self.shards(name)
        seen = set()
        for i in range(40):
            key = f"partition-{i}-é"
            put = self.kinesis.put_record(StreamName=name, PartitionKey=key, Data=b"x")
            expected = shard_for(shards, md5_hash_key(key))
            self.assertEqual(put["ShardId"], expected, f"partition key {key!r} (hash {md5_hash_key(key)})")
            seen.add(put["ShardId"])
        self.assertEqual(len(seen), 4, "40 keys should reach all 4 shards")

    def test_explicit_hash_key_overrides_partition_key(self):
        name = self.create_stream("explicit", shard_count=4)
        shards = self.shards(name)
        key = "always-the-same-key"
        natural = shard_for(shards, md5_hash_key(key))
        for shard in shards:
            for hash_key in (shard["HashKeyRange"]["StartingHashKey"], shard["HashKeyRange"]["EndingHashKey"]):
                put = self.kinesis.put_record(StreamName=name, PartitionKey=key, Data=b"x", ExplicitHashKey=hash_key)
                self.assertEqual(put["ShardId"], shard["ShardId"], f"ExplicitHashKey {hash_key}")
        self.assertEqual(self.kinesis.put_record(StreamName=name, PartitionKey=key, Data=b"x")["ShardId"], natural)
        self.assertEqual(self.kinesis.put_record(StreamName=name, PartitionKey=key, Data=b"x", ExplicitHashKey="0")["ShardId"],
                         "shardId-000000000000")
        self.assertEqual(self.kinesis.put_record(StreamName=name, PartitionKey=key, Data=b"x",
                                                 ExplicitHashKey=str(HASH_KEY_SPACE - 1))["ShardId"], "shardId-000000000003")

    def test_records_for_one_key_land_on_one_shard(self):
        name = self.create_stream("onekey", shard_count=3)
        singles = {self.kinesis.put_record(StreamName=name, PartitionKey="order-42", Data=b"%d" % i)["ShardId"] for i in range(10)}
        batch = self.kinesis.put_records(StreamName=name, Records=[{"PartitionKey": "order-42", "Data": b"b"}] * 10)
        self.assertEqual(len(singles | {r["ShardId"] for r in batch["Records"]}), 1)

    def test_sequence_numbers_strictly_increase_as_integers(self):
        name = self.create_stream("seq")
        numbers = [int(self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"%d" % i)["SequenceNumber"])
                   for i in range(30)]
        numbers += [int(r["SequenceNumber"]) for r in
                    self.kinesis.put_records(StreamName=name, Records=[{"PartitionKey": "k", "Data": b"x"}] * 30)["Records"]]
        for earlier, later in zip(numbers, numbers[1:]):
            self.assertLess(earlier, later)

    def test_concurrent_puts_to_one_shard(self):
        name = self.create_stream("concurrent")
        client = self.kinesis

        def put(worker):
            return [(client.put_record(StreamName=name, PartitionKey=f"w{worker}", Data=b"%d-%d" % (worker, i))["SequenceNumber"],
                     b"%d-%d" % (worker, i)) for i in range(40)]

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            results = [item for batch in pool.map(put, range(4)) for item in batch]
        self.assertEqual(len({sequence for sequence, _ in results}), 160, "sequence numbers are unique")
        stored = self.read_all(name, "shardId-000000000000")
        self.assertEqual([(r["SequenceNumber"], r["Data"]) for r in stored], sorted(results, key=lambda x: int(x[0])))

    def test_record_sequence_numbers_exceed_shard_starting_sequence_number(self):
        # AWS: a shard's StartingSequenceNumber sorts below its first record (fact sheet 6.1), so a reader
        # resuming AFTER_SEQUENCE_NUMBER the starting number misses nothing.
        name = self.create_stream("seqstart")
        start = int(self.shards(name)[0]["SequenceNumberRange"]["StartingSequenceNumber"])
        first = int(self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"first")["SequenceNumber"])
        self.assertGreater(first, start)

    def test_after_the_shard_starting_sequence_number_reads_every_record(self):
        # What that ordering means to a reader: a checkpoint at the shard's StartingSequenceNumber
        # (AFTER_SEQUENCE_NUMBER) must not skip the shard's first record.
        name = self.create_stream("afterstart")
        start = self.shards(name)[0]["SequenceNumberRange"]["StartingSequenceNumber"]
        for i in range(3):
            self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"r%d" % i)
        records = self.read_all(name, "shardId-000000000000", "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=start)
        self.assertEqual([r["Data"] for r in records], [b"r0", b"r1", b"r2"])
        records = self.read_all(name, "shardId-000000000000", "AT_SEQUENCE_NUMBER", StartingSequenceNumber=start)
        self.assertEqual([r["Data"] for r in records], [b"r0", b"r1", b"r2"])

    def test_sequence_number_for_ordering(self):
        name = self.create_stream("ordering")
        first = self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"1")["SequenceNumber"]
        second = self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"2", SequenceNumberForOrdering=first)["SequenceNumber"]
        self.assertGreater(int(second), int(first))

    def test_put_record_invalid_sequence_number_for_ordering(self):
        name = self.create_stream("orderbad")
        self.assert_client_error(
            "InvalidArgumentException",
            f"ExclusiveMinimumSequenceNumber {UNPARSEABLE_SEQUENCE} used in PutRecord on stream {name} under account {ACCOUNT} is invalid.",
            self.kinesis.put_record, StreamName=name, PartitionKey="k", Data=b"x", SequenceNumberForOrdering=UNPARSEABLE_SEQUENCE)

    def test_explicit_hash_key_out_of_range(self):
        name = self.create_stream("ehkrange")
        too_big = str(HASH_KEY_SPACE)
        message = ("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                   f"Specified value was {too_big}")
        self.assert_client_error("InvalidArgumentException", message, self.kinesis.put_record,
                                 StreamName=name, PartitionKey="k", Data=b"x", ExplicitHashKey=too_big)
        # In PutRecords one bad entry fails the whole request, and nothing is written.
        self.assert_client_error("InvalidArgumentException", message, self.kinesis.put_records, StreamName=name,
                                 Records=[{"PartitionKey": "k", "Data": b"ok"},
                                          {"PartitionKey": "k", "Data": b"x", "ExplicitHashKey": too_big}])
        self.assertEqual(self.read_all(name, "shardId-000000000000"), [])

    def test_explicit_hash_key_pattern(self):
        name = self.create_stream("ehkpattern")
        self.assert_client_error(
            "ValidationException",
            "1 validation error detected: Value 'abc' at 'explicitHashKey' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})",
            self.kinesis.put_record, StreamName=name, PartitionKey="k", Data=b"x", ExplicitHashKey="abc")


class PutRecordsTests(KinesisTestCase):

    def test_put_records_results_in_request_order(self):
        name = self.create_stream("batchorder", shard_count=4)
        shards = self.shards(name)
        records = [{"PartitionKey": f"key-{i}", "Data": f"value-{i}".encode()} for i in range(60)]
        response = self.kinesis.put_records(StreamName=name, Records=records)
        self.assertEqual(response["FailedRecordCount"], 0)
        self.assertEqual(len(response["Records"]), 60)
        for i, result in enumerate(response["Records"]):
            self.assertTrue({"ShardId", "SequenceNumber"} <= set(result), result)
            self.assertNotIn("ErrorCode", result)
            self.assertEqual(result["ShardId"], shard_for(shards, md5_hash_key(f"key-{i}")), f"record {i}")
        # Reading each shard back gives the same sequence numbers for the same data, in request order.
        by_sequence = {r["SequenceNumber"]: (r["ShardId"], i) for i, r in enumerate(response["Records"])}
        for shard in shards:
            stored = self.read_all(name, shard["ShardId"])
            indexes = [by_sequence[r["SequenceNumber"]][1] for r in stored]
            self.assertEqual(indexes, sorted(indexes), "records of one shard keep request order")
            for record in stored:
                i = by_sequence[record["SequenceNumber"]][1]
                self.assertEqual(record["Data"], f"value-{i}".encode())
                self.assertEqual(record["PartitionKey"], f"key-{i}")

    def test_put_records_500_records(self):
        name = self.create_stream("batch500", shard_count=2)
        records = [{"PartitionKey": f"k{i}", "Data": os.urandom(64)} for i in range(500)]
        response = self.kinesis.put_records(StreamName=name, Records=records)
        self.assertEqual(response["FailedRecordCount"], 0)
        self.assertEqual(len(response["Records"]), 500)
        self.assertEqual(len({r["SequenceNumber"] for r in response["Records"]}), 500)
        stored = self.read_all(name, "shardId-000000000000") + self.read_all(name, "shardId-000000000001")
        self.assertEqual(sorted(r["Data"] for r in stored), sorted(r["Data"] for r in records))

    def test_put_records_raw_shape(self):
        name = self.create_stream("batchraw")
        response = raw_call("PutRecords", {"StreamName": name, "Records": [{"PartitionKey": "a", "Data": ""},
                                                                          {"PartitionKey": "b", "Data": "AA=="}]})
        self.assertEqual(response.status, 200)
        body = response.json()
        self.assertEqual(set(body), {"FailedRecordCount", "Records"}, body)  # no EncryptionType on an unencrypted stream, as AWS
        self.assertIs(type(body["FailedRecordCount"]), int)
        self.assertEqual(body["FailedRecordCount"], 0)
        for result in body["Records"]:
            self.assertEqual(set(result), {"ShardId", "SequenceNumber"})


class ShardIteratorTests(KinesisTestCase):

    def put_numbered(self, name, count, start=0):
        """Puts records 'r<n>' one at a time; returns their sequence numbers."""
        return [self.kinesis.put_record(StreamName=name, PartitionKey=f"pk{n}", Data=b"r%d" % n)["SequenceNumber"]
                for n in range(start, start + count)]

    def iterator(self, name, iterator_type, shard="shardId-000000000000", **kwargs):
        return self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType=iterator_type, **kwargs)["ShardIterator"]

    def test_get_shard_iterator_response_has_only_the_iterator(self):
        name = self.create_stream("itshape")
        response = raw_call("GetShardIterator", {"StreamName": name, "ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST"})
        body = response.json()
        self.assertEqual(set(body), {"ShardIterator"})
        self.assertTrue(1 <= len(body["ShardIterator"]) <= 512)

    def test_trim_horizon_reads_everything_exactly(self):
        name = self.create_stream("trim")
        sequences = self.put_numbered(name, 5)
        records = self.read_all(name, "shardId-000000000000")
        self.assertEqual([r["SequenceNumber"] for r in records], sequences)
        self.assertEqual([r["Data"] for r in records], [b"r0", b"r1", b"r2", b"r3", b"r4"])
        self.assertEqual([r["PartitionKey"] for r in records], ["pk0", "pk1", "pk2", "pk3", "pk4"])
        now = datetime.datetime.now(datetime.timezone.utc)
        for record in records:
            self.assertLess(abs((record["ApproximateArrivalTimestamp"] - now).total_seconds()), 30)

    def test_latest_reads_only_later_records(self):
        name = self.create_stream("latest")
        self.put_numbered(name, 3)
        iterator = self.iterator(name, "LATEST")
        empty = self.kinesis.get_records(ShardIterator=iterator)
        self.assertEqual(empty["Records"], [])
        self.assertIn("NextShardIterator", empty)
        later = self.put_numbered(name, 2, start=3)
        page = self.kinesis.get_records(ShardIterator=empty["NextShardIterator"])
        self.assertEqual([r["SequenceNumber"] for r in page["Records"]], later)
        self.assertEqual([r["Data"] for r in page["Records"]], [b"r3", b"r4"])
        # The first LATEST iterator was taken before the puts, so it sees them too.
        self.assertEqual([r["Data"] for r in self.kinesis.get_records(ShardIterator=iterator)["Records"]], [b"r3", b"r4"])

    def test_at_sequence_number_includes_the_record(self):
        name = self.create_stream("atseq")
        sequences = self.put_numbered(name, 5)
        records = self.read_all(name, "shardId-000000000000", "AT_SEQUENCE_NUMBER", StartingSequenceNumber=sequences[2])
        self.assertEqual([r["Data"] for r in records], [b"r2", b"r3", b"r4"])
        self.assertEqual([r["SequenceNumber"] for r in records], sequences[2:])

    def test_after_sequence_number_excludes_the_record(self):
        name = self.create_stream("afterseq")
        sequences = self.put_numbered(name, 5)
        records = self.read_all(name, "shardId-000000000000", "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=sequences[2])
        self.assertEqual([r["Data"] for r in records], [b"r3", b"r4"])
        last = self.read_all(name, "shardId-000000000000", "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=sequences[4])
        self.assertEqual(last, [])

    def test_at_timestamp(self):
        name = self.create_stream("attime")
        self.put_numbered(name, 3)
        # boto3 sends whole epoch seconds, so split the records at a second boundary.
        boundary = int(time.time()) + 1
        time.sleep(boundary - time.time() + 0.2)
        self.put_numbered(name, 2, start=3)
        at = datetime.datetime.fromtimestamp(boundary, datetime.timezone.utc)
        records = self.read_all(name, "shardId-000000000000", "AT_TIMESTAMP", Timestamp=at)
        self.assertEqual([r["Data"] for r in records], [b"r3", b"r4"])
        early = datetime.datetime.fromtimestamp(boundary - 3600, datetime.timezone.utc)
        self.assertEqual(len(self.read_all(name, "shardId-000000000000", "AT_TIMESTAMP", Timestamp=early)), 5)

    def test_at_timestamp_reads_millisecond_fractions_exactly(self):
        # JSON timestamps are epoch seconds with a fraction. AT_TIMESTAMP at a record's exact arrival time
        # includes it; one millisecond later excludes it. Decimal keeps the numbers exact on this side.
        name = self.create_stream("attimefrac")
        for i in range(6):
            self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"r%d" % i)
            time.sleep(0.004)
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = json.loads(raw_call("GetRecords", {"ShardIterator": iterator}).body,
                             parse_float=decimal.Decimal)["Records"]
        self.assertEqual(len(records), 6)
        arrivals = [decimal.Decimal(r["ApproximateArrivalTimestamp"]) for r in records]
        for i, arrival in enumerate(arrivals[:-1]):
            for timestamp, first in ((arrival, i), (arrival + decimal.Decimal("0.001"), None)):
                first = first if first is not None else next(j for j, a in enumerate(arrivals) if a >= timestamp)
                body = ('{"StreamName":"%s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP",'
                        '"Timestamp":%s}' % (name, timestamp))
                at = json.loads(raw_call("GetShardIterator", body).body)["ShardIterator"]
                got = self.kinesis.get_records(ShardIterator=at, Limit=1)["Records"]
                self.assertEqual(got[0]["Data"], b"r%d" % first, f"AT_TIMESTAMP {timestamp} (arrivals {arrivals})")

    def test_at_timestamp_now_starts_at_the_tip(self):
        name = self.create_stream("attimenow")
        self.put_numbered(name, 2)
        time.sleep(0.02)
        iterator = self.iterator(name, "AT_TIMESTAMP", Timestamp=datetime.datetime.now(datetime.timezone.utc))
        # boto3 truncates to the second, so records of this second may still show; new ones must.
        later = self.put_numbered(name, 1, start=2)
        page = self.kinesis.get_records(ShardIterator=iterator)
        self.assertEqual(page["Records"][-1]["SequenceNumber"], later[0])

    def test_at_timestamp_without_timestamp(self):
        name = self.create_stream("attimenone")
        self.assert_client_error(
            "InvalidArgumentException",
            "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.",
            self.iterator, name, "AT_TIMESTAMP")

    def test_at_timestamp_in_the_future(self):
        name = self.create_stream("attimefuture")
        future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
        self.assert_client_error(
            "InvalidArgumentException",
            re.compile(r"The timestampInMillis parameter cannot be greater than the currentTimestampInMillis\. "
                       rf"timestampInMillis: {int(future.timestamp()) * 1000}, currentTimestampInMillis: \d{{13}}"),
            self.iterator, name, "AT_TIMESTAMP", Timestamp=future)

    def test_sequence_number_with_trim_horizon_or_latest(self):
        name = self.create_stream("itboth")
        sequence = self.put_numbered(name, 1)[0]
        for kind in ("TRIM_HORIZON", "LATEST"):
            self.assert_client_error("InvalidArgumentException",
                                     f"{EITHER_OR} Request specified {kind} and also a StartingSequenceNumber.",
                                     self.iterator, name, kind, StartingSequenceNumber=sequence)

    def test_sequence_iterator_without_sequence_number(self):
        name = self.create_stream("itnone")
        for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            self.assert_client_error("InvalidArgumentException",
                                     f"{EITHER_OR} Request specified {kind} and no StartingSequenceNumber.",
                                     self.iterator, name, kind)

    def test_unparseable_starting_sequence_number(self):
        name = self.create_stream("itbadseq")
        self.assert_client_error(
            "InvalidArgumentException",
            f"StartingSequenceNumber {UNPARSEABLE_SEQUENCE} used in GetShardIterator on shard shardId-000000000000 "
            f"in stream {name} under account {ACCOUNT} is invalid.",
            self.iterator, name, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=UNPARSEABLE_SEQUENCE)

    def test_sequence_number_of_another_shard(self):
        name = self.create_stream("itothershard", shard_count=2)
        put = self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"x", ExplicitHashKey=str(HASH_KEY_SPACE - 1))
        self.assertEqual(put["ShardId"], "shardId-000000000001")
        self.assert_client_error(
            "InvalidArgumentException",
            "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000",
            self.iterator, name, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=put["SequenceNumber"])

    def test_sequence_number_of_another_stream(self):
        # AWS tells streams apart by the shard creation second in the sequence number: create a second apart.
        other = self.create_stream("itotherstream-a")
        time.sleep(1.1)
        name = self.create_stream("itotherstream-b")
        foreign = self.kinesis.put_record(StreamName=other, PartitionKey="k", Data=b"x")["SequenceNumber"]
        self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"x")
        self.assert_client_error(
            "InvalidArgumentException",
            f"StartingSequenceNumber {foreign} used in GetShardIterator on shard shardId-000000000000 in stream {name} "
            f"under account {ACCOUNT} is invalid because it did not come from this stream.",
            self.iterator, name, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=foreign)

    def test_shard_id_forms(self):
        name = self.create_stream("itshardid", shard_count=2)
        self.put_numbered(name, 1)
        # AWS reads the digits after the first '-': "1", "shardId-1" and "x-000001" all name shard 1.
        for shard_id in ("1", "shardId-1", "x-000001"):
            self.assertTrue(self.iterator(name, "TRIM_HORIZON", shard=shard_id))
        self.assert_client_error("ResourceNotFoundException",
                                 f"Could not find shard ABKLFD8 in stream {name} under account {ACCOUNT}.",
                                 self.iterator, name, "TRIM_HORIZON", shard="ABKLFD8")
        self.assert_client_error("ResourceNotFoundException",
                                 f"Could not find shard shardId-002147483648 in stream {name} under account {ACCOUNT}.",
                                 self.iterator, name, "TRIM_HORIZON", shard="shardId-002147483648")
        self.assert_client_error("ResourceNotFoundException",
                                 f"Shard shardId-000000000002 in stream {name} under account {ACCOUNT} does not exist",
                                 self.iterator, name, "TRIM_HORIZON", shard="shardId-000000000002")

    def test_get_shard_iterator_on_missing_stream(self):
        name = unique_name("itmissing")
        self.assert_client_error("ResourceNotFoundException",
                                 f"Shard shardId-000000000000 in stream {name} under account {ACCOUNT} does not exist",
                                 self.iterator, name, "TRIM_HORIZON")


class GetRecordsTests(KinesisTestCase):

    def test_limit_and_next_shard_iterator_chaining(self):
        name = self.create_stream("chain")
        for i in range(5):
            self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"%d" % i)
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        pages = []
        for _ in range(5):
            page = self.kinesis.get_records(ShardIterator=iterator, Limit=2)
            self.assertIn("MillisBehindLatest", page)
            self.assertIsInstance(page["MillisBehindLatest"], int)
            pages.append([r["Data"] for r in page["Records"]])
            iterator = page["NextShardIterator"]
        self.assertEqual(pages, [[b"0", b"1"], [b"2", b"3"], [b"4"], [], []])
        self.assertEqual(page["MillisBehindLatest"], 0)
        self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"5")
        self.assertEqual([r["Data"] for r in self.kinesis.get_records(ShardIterator=iterator)["Records"]], [b"5"])

    def test_get_records_raw_shape(self):
        name = self.create_stream("getraw")
        self.kinesis.put_record(StreamName=name, PartitionKey="pk", Data=b"\x00\x01\xfe\xff")
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        body = raw_call("GetRecords", {"ShardIterator": iterator}).json()
        self.assertEqual(set(body), {"Records", "NextShardIterator", "MillisBehindLatest"}, "ChildShards only at a closed shard's end")
        record = body["Records"][0]
        self.assertTrue({"SequenceNumber", "ApproximateArrivalTimestamp", "Data", "PartitionKey"} <= set(record)
                        <= {"SequenceNumber", "ApproximateArrivalTimestamp", "Data", "PartitionKey", "EncryptionType"}, record)
        self.assertEqual(record["Data"], "AAH+/w==")
        self.assertEqual(record["PartitionKey"], "pk")
        self.assertIsInstance(record["ApproximateArrivalTimestamp"], (int, float))
        self.assertLess(abs(record["ApproximateArrivalTimestamp"] - time.time()), 30, "epoch seconds")
        self.assertIsInstance(body["MillisBehindLatest"], int)

    def test_binary_data_round_trips_byte_exact(self):
        name = self.create_stream("binary")
        payloads = [b"", bytes(range(256)), b"\x00" * 17, "ünïcödé ✓".encode("utf-8"), os.urandom(1000),
                    os.urandom(1048576)]
        sequences = [self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=p)["SequenceNumber"] for p in payloads]
        batch = self.kinesis.put_records(StreamName=name, Records=[{"PartitionKey": "k", "Data": p} for p in payloads[:5]])
        sequences += [r["SequenceNumber"] for r in batch["Records"]]
        records = self.read_all(name, "shardId-000000000000", limit=3)
        self.assertEqual([r["SequenceNumber"] for r in records], sequences)
        expected = payloads + payloads[:5]
        for i, (record, payload) in enumerate(zip(records, expected)):
            self.assertEqual(len(record["Data"]), len(payload), f"record {i}")
            self.assertTrue(record["Data"] == payload, f"record {i} differs")

    def test_data_over_one_mebibyte_is_rejected(self):
        name = self.create_stream("toobig")
        response = raw_call("PutRecord", {"StreamName": name, "PartitionKey": "k",
                                          "Data": base64.b64encode(b"\x00" * 1048577).decode()})
        self.assert_raw_error(response, 400, "ValidationException",
                              "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' "
                              "at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576")

    def test_invalid_shard_iterator(self):
        for iterator in ("A" * 200, "not an iterator", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="):
            self.assert_client_error("InvalidArgumentException", "Invalid ShardIterator.",
                                     self.kinesis.get_records, ShardIterator=iterator)

    def test_shard_iterator_of_a_deleted_stream(self):
        name = self.create_stream("itdeleted")
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.kinesis.delete_stream(StreamName=name)
        wait_gone(name)
        self.assert_client_error("ResourceNotFoundException",
                                 f"Shard shardId-000000000000 in stream {name} under account {ACCOUNT} does not exist",
                                 self.kinesis.get_records, ShardIterator=iterator)

    def test_old_iterator_survives_delete_and_recreate(self):
        # The AWS-captured case (fact sheet 3.10): after a stream is deleted and created again under the
        # same name, an old iterator for a shard that still exists works.
        name = self.create_stream("itrecreate")
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.kinesis.delete_stream(StreamName=name)
        wait_gone(name)
        self.kinesis.create_stream(StreamName=name, ShardCount=1)
        wait_active(name)
        page = self.kinesis.get_records(ShardIterator=iterator)
        self.assertEqual(page["Records"], [])
        self.assertIn("NextShardIterator", page)

    def test_get_records_returns_at_most_10_mib(self):
        name = self.create_stream("tenmib")
        payload = b"\xab" * 1048576
        for _ in range(4):
            self.kinesis.put_records(StreamName=name, Records=[{"PartitionKey": "k", "Data": payload}] * 3)
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        sizes = []
        for _ in range(10):
            page = self.kinesis.get_records(ShardIterator=iterator)
            if not page["Records"]:
                break
            self.assertLessEqual(sum(len(r["Data"]) + len(r["PartitionKey"]) for r in page["Records"]), 10 * 1048576)
            sizes.append(len(page["Records"]))
            iterator = page["NextShardIterator"]
        self.assertEqual(sum(sizes), 12)
        self.assertGreater(len(sizes), 1, "12 MiB cannot come back in one call")

    def test_millis_behind_latest_when_behind(self):
        name = self.create_stream("behind")
        for i in range(3):
            self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"%d" % i)
            time.sleep(0.05)
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000",
                                                   ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        first = self.kinesis.get_records(ShardIterator=iterator, Limit=1)
        self.assertGreater(first["MillisBehindLatest"], 0, "one record read, two newer ones remain")
        rest = self.kinesis.get_records(ShardIterator=first["NextShardIterator"])
        self.assertEqual(rest["MillisBehindLatest"], 0)
