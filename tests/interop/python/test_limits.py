"""AWS's throughput limits and control-plane rates, on a Runnel server of this module's own started with
the default settings (limits on): the shared server of scripts/test.sh runs with --limits off.

Every call is made once (botocore's retries off, counted with an event hook), so a throttling error shows
as the server sent it. Each test stays within a few seconds: the buckets hold one second of traffic, no
sleep is longer than 1.1 s, and every loop is bounded in calls and time.
"""

import time

from botocore.exceptions import ClientError

from kinesis_support import ACCOUNT, KinesisTestCase, make_client
from runnel_process import RunnelProcess

SHARD = "shardId-000000000000"
THROTTLED = "ProvisionedThroughputExceededException"

_server = None
_client = None
_sent = [0]


def _count_send(**_):
    _sent[0] += 1


def setUpModule():
    global _server, _client
    _server = RunnelProcess()  # the defaults a new user gets, limits on
    try:
        _client = make_client(_server.start())
    except BaseException:
        _server.stop()
        raise
    _client.meta.events.register("before-send.kinesis", _count_send)


def tearDownModule():
    failures = _server.stop() if _server is not None else []
    if failures:
        raise AssertionError("the limits server logged internal failures:\n" + "\n".join(failures[:20]))


def shard_rate_exceeded(name):
    return f"Rate exceeded for shard {SHARD} in stream {name} under account {ACCOUNT}."


class ThroughputLimitTests(KinesisTestCase):

    @property
    def kinesis(self):
        return _client

    def calls_until_error(self, call, attempts, seconds):
        """Makes up to `attempts` calls within `seconds`; returns (calls that succeeded, the first ClientError)."""
        deadline = time.monotonic() + seconds
        succeeded = 0
        for _ in range(attempts):
            if time.monotonic() > deadline:
                break
            try:
                call()
            except ClientError as e:
                return succeeded, e
            succeeded += 1
        return succeeded, None

    def read_everything(self, name):
        """Every record of the shard, waiting out read throttling (at most 30 calls, ~0.25 s apart when throttled)."""
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=SHARD, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = []
        for _ in range(30):
            try:
                page = self.kinesis.get_records(ShardIterator=iterator)
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], THROTTLED)
                time.sleep(0.25)
                continue
            records += page["Records"]
            iterator = page["NextShardIterator"]
            if not page["Records"] and page["MillisBehindLatest"] == 0:
                return records
        raise AssertionError("could not read the shard to its tip within 30 GetRecords calls")

    def test_describe_stream_over_ten_calls_a_second(self):
        # Nothing else in this module calls DescribeStream, so the account's bucket is full here.
        name = self.create_stream("describerate")
        sent = _sent[0]
        succeeded, error = self.calls_until_error(lambda: self.kinesis.describe_stream(StreamName=name), attempts=40, seconds=3)
        self.assertIsNotNone(error, f"{succeeded} DescribeStream calls were all answered")
        self.assertGreaterEqual(succeeded, 10, "the first ten calls of a second are answered")
        self.assertEqual(error.response["Error"]["Code"], "LimitExceededException")
        self.assertEqual(error.response["Error"]["Message"], f"Rate exceeded for stream {name} under account {ACCOUNT}.")
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(_sent[0] - sent, succeeded + 1, "one request per call: no retries")
        time.sleep(1.1)
        self.assertEqual(self.kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamName"], name)

    def test_get_records_over_five_calls_a_second(self):
        name = self.create_stream("readrate")
        self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"one")
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=SHARD, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        succeeded, error = self.calls_until_error(lambda: self.kinesis.get_records(ShardIterator=iterator), attempts=12, seconds=2)
        self.assertIsNotNone(error, f"{succeeded} GetRecords calls on one shard were all answered")
        self.assertGreaterEqual(succeeded, 5, "the first five calls of a second are answered")
        self.assertEqual(error.response["Error"]["Code"], THROTTLED)
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        time.sleep(1.1)
        self.assertEqual([r["Data"] for r in self.kinesis.get_records(ShardIterator=iterator)["Records"]], [b"one"])

    def test_get_shard_iterator_over_five_calls_a_second(self):
        name = self.create_stream("iteratorrate")
        succeeded, error = self.calls_until_error(
            lambda: self.kinesis.get_shard_iterator(StreamName=name, ShardId=SHARD, ShardIteratorType="LATEST"), attempts=12, seconds=2)
        self.assertIsNotNone(error, f"{succeeded} GetShardIterator calls on one shard were all answered")
        self.assertGreaterEqual(succeeded, 5)
        self.assertEqual(error.response["Error"]["Code"], THROTTLED)

    def test_put_records_over_the_shard_write_limit(self):
        name = self.create_stream("writerate")
        # 500 records of ~1 KB: three calls are 1,500 records and ~1.5 MB, over both of a shard's 1,000
        # records and 1 MiB a second.
        batch = [{"PartitionKey": f"k{i}", "Data": b"x" * 1000} for i in range(500)]
        sent = _sent[0]
        started = time.monotonic()
        results = [self.kinesis.put_records(StreamName=name, Records=batch) for _ in range(3)]
        elapsed = time.monotonic() - started
        self.assertEqual(_sent[0] - sent, 3, "one request per call: no retries")
        self.assertEqual(results[0]["FailedRecordCount"], 0, "a fresh shard takes 500 records")
        third = results[2]
        self.assertGreater(third["FailedRecordCount"], 0, f"3 x 500 records in {elapsed:.2f} s were all accepted")
        failed = [r for r in third["Records"] if "ErrorCode" in r]
        self.assertEqual(len(third["Records"]), 500)
        self.assertEqual(len(failed), third["FailedRecordCount"])
        for entry in third["Records"]:
            if "ErrorCode" in entry:
                self.assertEqual(entry, {"ErrorCode": THROTTLED, "ErrorMessage": shard_rate_exceeded(name)},
                                 "a throttled entry has no SequenceNumber or ShardId")
            else:
                self.assertEqual(set(entry), {"SequenceNumber", "ShardId"}, entry)

        # The shard's budget is spent: a 512 KiB record needs about half a second of refill.
        self.assert_client_error(THROTTLED, shard_rate_exceeded(name), self.kinesis.put_record,
                                 StreamName=name, PartitionKey="big", Data=b"y" * (512 * 1024))

        time.sleep(1.1)
        again = self.kinesis.put_records(StreamName=name, Records=batch)
        self.assertEqual(again["FailedRecordCount"], 0, "a second later the shard takes 500 records again")
        self.kinesis.put_record(StreamName=name, PartitionKey="small", Data=b"z")

        # Exactly the acknowledged records were stored.
        acknowledged = [e["SequenceNumber"] for r in results + [again] for e in r["Records"] if "SequenceNumber" in e]
        stored = self.read_everything(name)
        self.assertEqual([r["SequenceNumber"] for r in stored][:len(acknowledged)], acknowledged)
        self.assertEqual(len(stored), len(acknowledged) + 1)
