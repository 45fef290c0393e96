"""Enhanced fan-out's SubscribeToShard through stock boto3 (HTTP/1.1, a chunked application/vnd.amazon.eventstream
response read as botocore's EventStream): LATEST and in-order push, resubscription after ContinuationSequenceNumber,
the empty event of an idle subscription, and, on a Runnel server of this module's own started with
--subscription-lifetime 2000, the clean end of a subscription at its lifetime.

Every wait is bounded: the clients read with a 15-second timeout (an open subscription gets an event at least every
5 s) and every loop over events stops at a deadline.
"""

import time

from botocore.exceptions import ClientError

from kinesis_support import ENDPOINT, KinesisTestCase, make_client, stream_arn, wait_until
from runnel_process import RunnelProcess

SHARD = "shardId-000000000000"
EVENT_STREAM_TYPE = "application/vnd.amazon.eventstream"
READ_TIMEOUT = 15
LIFETIME_MS = 2000

_clients = {}


def fanout_client(endpoint):
    """A client per endpoint whose reads time out after READ_TIMEOUT s instead of the suite's 60."""
    if endpoint not in _clients:
        _clients[endpoint] = make_client(endpoint, read_timeout=READ_TIMEOUT)
    return _clients[endpoint]


class Subscription:
    """One SubscribeToShard call: the response, its EventStream and the events read so far (each with the time it
    was read). Reading stops at a deadline; `ended` is set when the stream ended by itself, `error` is what the
    iteration raised."""

    def __init__(self, response):
        self.response = response
        self.stream = response["EventStream"]
        self.opened = time.monotonic()
        self.events = []
        self.ended = False
        self.ended_at = None
        self.error = None
        self._iterator = iter(self.stream)

    def _next(self):
        try:
            event = next(self._iterator)
        except StopIteration:
            self.ended, self.ended_at = True, time.monotonic()
            return None
        except Exception as e:  # noqa: BLE001 - kept for the assertion that reports it
            self.ended, self.ended_at, self.error = True, time.monotonic(), e
            return None
        if set(event) != {"SubscribeToShardEvent"}:
            raise AssertionError(f"unexpected event {event!r}")
        self.events.append((time.monotonic(), event["SubscribeToShardEvent"]))
        return event["SubscribeToShardEvent"]

    @property
    def shard_events(self):
        return [e for _, e in self.events]

    @property
    def records(self):
        return [r for e in self.shard_events for r in e["Records"]]

    def read_records(self, count, seconds=10.0):
        """Reads events until `count` records arrived; the stream must not end first."""
        deadline = time.monotonic() + seconds
        while len(self.records) < count:
            if self.ended or self._next() is None:
                how = repr(self.error) if self.error else "cleanly"
                raise AssertionError(f"the subscription ended after {len(self.records)} of {count} records: {how}")
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.records)} of {count} records within {seconds}s")
        return self.records

    def read_event(self, seconds=12.0):
        """The next event (None when the stream ended); fails when none came within `seconds`."""
        started = time.monotonic()
        event = self._next()
        if time.monotonic() - started > seconds:
            raise AssertionError(f"the next event took {time.monotonic() - started:.1f}s")
        return event

    def read_to_end(self, seconds=10.0):
        """Reads until the stream ends by itself; fails after `seconds`. Returns the error raised, or None."""
        deadline = time.monotonic() + seconds
        while not self.ended:
            if time.monotonic() > deadline:
                raise AssertionError(f"the subscription did not end within {seconds}s")
            self._next()
        return self.error

    def close(self):
        self.stream.close()


class FanOutCase(KinesisTestCase):

    endpoint = None  # the shared server

    @property
    def kinesis(self):
        return fanout_client(self.endpoint or ENDPOINT)

    def register(self, name, consumer_name="fanout"):
        consumer = self.kinesis.register_stream_consumer(StreamARN=stream_arn(name), ConsumerName=consumer_name)["Consumer"]
        arn = consumer["ConsumerARN"]
        wait_until(lambda: self.kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE",
                   f"consumer {consumer_name} to become ACTIVE")
        return arn

    def subscribe(self, arn, position, shard_id=SHARD):
        response = self.kinesis.subscribe_to_shard(ConsumerARN=arn, ShardId=shard_id, StartingPosition=position)
        meta = response["ResponseMetadata"]
        self.assertEqual(meta["HTTPStatusCode"], 200)
        self.assertEqual(meta["HTTPHeaders"].get("content-type"), EVENT_STREAM_TYPE)
        subscription = Subscription(response)
        self.addCleanup(subscription.close)
        return subscription

    def resubscribe(self, arn, position, shard_id=SHARD):
        """SubscribeToShard again right after closing a subscription of the same consumer and shard: AWS refuses a
        new one within 5 s of the last one's start (ResourceInUseException), so that is retried for at most 6.5 s."""
        deadline = time.monotonic() + 6.5
        while True:
            try:
                return self.subscribe(arn, position, shard_id)
            except ClientError as e:
                if e.response["Error"]["Code"] != "ResourceInUseException" or time.monotonic() > deadline:
                    raise
                time.sleep(0.25)

    def put_each(self, name, prefix, count):
        puts = []
        for i in range(count):
            data, key = f"{prefix}-{i}".encode(), f"key-{prefix}-{i}"
            response = self.kinesis.put_record(StreamName=name, PartitionKey=key, Data=data)
            puts.append((response["SequenceNumber"], data, key))
        return puts

    def put_batch(self, name, prefix, count):
        entries = [{"PartitionKey": f"key-{prefix}-{i}", "Data": f"{prefix}-{i}".encode()} for i in range(count)]
        response = self.kinesis.put_records(StreamName=name, Records=entries)
        self.assertEqual(response["FailedRecordCount"], 0, response)
        return [(r["SequenceNumber"], e["Data"], e["PartitionKey"]) for r, e in zip(response["Records"], entries)]

    def assert_same_records(self, received, puts, what):
        self.assertEqual([r["SequenceNumber"] for r in received], [p[0] for p in puts], f"{what}: sequence numbers")
        self.assertEqual([r["Data"] for r in received], [p[1] for p in puts], f"{what}: data")
        self.assertEqual([r["PartitionKey"] for r in received], [p[2] for p in puts], f"{what}: partition keys")
        for r in received:
            self.assertIsNotNone(r["ApproximateArrivalTimestamp"].tzinfo, f"{what}: ApproximateArrivalTimestamp")

    def assert_open_shard_events(self, events):
        """Events of an open shard: ContinuationSequenceNumber at or after the event's last record, MillisBehindLatest,
        no ChildShards, sequence numbers increasing across events."""
        previous = -1
        for e in events:
            self.assertIn("ContinuationSequenceNumber", e, e)
            self.assertIsInstance(e.get("MillisBehindLatest"), int, e)
            self.assertGreaterEqual(e["MillisBehindLatest"], 0, e)
            self.assertFalse(e.get("ChildShards"), e)
            for r in e["Records"]:
                self.assertGreater(int(r["SequenceNumber"]), previous, "sequence numbers must increase")
                previous = int(r["SequenceNumber"])
            self.assertGreaterEqual(int(e["ContinuationSequenceNumber"]), previous, e)


class SubscribeToShardTests(FanOutCase):

    def test_latest_records_arrive_in_order(self):
        name = self.create_stream("fanlatest")
        before = self.put_each(name, "before", 3)
        arn = self.register(name)
        sub = self.subscribe(arn, {"Type": "LATEST"})
        self.assertEqual(sub.response["ResponseMetadata"]["HTTPHeaders"].get("transfer-encoding"), "chunked",
                         "an HTTP/1.1 event stream is chunked")
        first = self.put_each(name, "first", 1)
        put_at = time.monotonic()
        sub.read_records(1)
        self.assertLess(sub.events[-1][0] - put_at, 2.5, "the first record waited for the idle event instead of being pushed")
        puts = first + self.put_each(name, "single", 20) + self.put_batch(name, "batch", 30)
        received = sub.read_records(len(puts))
        self.assert_same_records(received, puts, "LATEST subscription")
        self.assertFalse({p[0] for p in before} & {r["SequenceNumber"] for r in received}, "LATEST delivered a record put before it")
        self.assert_open_shard_events(sub.shard_events)

    def test_resubscribe_after_continuation_sequence_number(self):
        name = self.create_stream("fancontinue")
        arn = self.register(name)
        first = self.subscribe(arn, {"Type": "LATEST"})
        early = self.put_batch(name, "early", 10)
        self.assert_same_records(first.read_records(10), early, "first subscription")
        continuation = first.shard_events[-1]["ContinuationSequenceNumber"]
        first.close()
        missed = self.put_each(name, "missed", 15)  # written while no subscription is open
        second = self.resubscribe(arn, {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": continuation})
        late = self.put_batch(name, "late", 5)
        received = second.read_records(20)
        self.assert_same_records(received, missed + late, "resubscription")
        self.assert_open_shard_events(second.shard_events)
        # The idle event that follows (at most 5 s later) brings nothing repeated.
        event = second.read_event()
        self.assertIsNotNone(event, f"the subscription ended: {second.error!r}")
        self.assertEqual(event["Records"], [], "records after the last one put")
        self.assertGreaterEqual(int(event["ContinuationSequenceNumber"]), int(received[-1]["SequenceNumber"]))

    def test_idle_subscription_gets_an_empty_event_and_its_continuation_resumes(self):
        name = self.create_stream("fanidle")
        arn = self.register(name)
        sub = self.subscribe(arn, {"Type": "LATEST"})
        event = sub.read_event(seconds=10)
        self.assertIsNotNone(event, f"the idle subscription ended: {sub.error!r}")
        waited = sub.events[-1][0] - sub.opened
        self.assertLessEqual(waited, 10.0)
        self.assertEqual(event["Records"], [], event)
        self.assertEqual(event["MillisBehindLatest"], 0, event)
        self.assertIn("ContinuationSequenceNumber", event, event)
        self.assertFalse(event.get("ChildShards"), event)
        sub.close()
        # The idle event's ContinuationSequenceNumber resumes at the shard's tip as it was then.
        puts = self.put_each(name, "after-idle", 3)
        again = self.resubscribe(arn, {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": event["ContinuationSequenceNumber"]})
        self.assert_same_records(again.read_records(3), puts, "resubscription from an idle event")


class SubscriptionLifetimeTests(FanOutCase):
    """On a server of this class's own with --subscription-lifetime 2000: a subscription ends cleanly after 2 s."""

    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = RunnelProcess("--subscription-lifetime", LIFETIME_MS, "--limits", "off")
        try:
            cls.endpoint = cls.server.start()
        except BaseException:
            cls.server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        failures = cls.server.stop() if cls.server is not None else []
        if failures:
            raise AssertionError("the lifetime server logged internal failures:\n" + "\n".join(failures[:20]))

    def test_subscription_ends_cleanly_at_its_lifetime(self):
        name = self.create_stream("fanlifetime")
        arn = self.register(name)
        sub = self.subscribe(arn, {"Type": "LATEST"})
        puts = self.put_each(name, "life", 3)
        self.assert_same_records(sub.read_records(3), puts, "subscription before its lifetime ends")
        error = sub.read_to_end(seconds=10)
        self.assertIsNone(error, f"the subscription ended with an error instead of cleanly: {error!r}")
        lasted = sub.ended_at - sub.opened
        self.assertGreaterEqual(lasted, LIFETIME_MS / 1000 - 0.5, f"ended after {lasted:.2f}s")
        self.assertLessEqual(lasted, LIFETIME_MS / 1000 + 3.0, f"ended after {lasted:.2f}s")
        self.assertEqual(len(sub.records), 3, sub.records)
        self.assert_open_shard_events(sub.shard_events)
        # The consumer subscribes again from where it was, as the KCL does every 5 minutes on AWS.
        more = self.put_each(name, "next", 2)
        again = self.resubscribe(arn, {"Type": "AFTER_SEQUENCE_NUMBER",
                                       "SequenceNumber": sub.shard_events[-1]["ContinuationSequenceNumber"]})
        self.assert_same_records(again.read_records(2), more, "subscription after the lifetime ended")
