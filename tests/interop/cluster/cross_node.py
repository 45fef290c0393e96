"""Two Runnel nodes on one NATS JetStream cluster, driven with stock boto3 as a user would: what is done through
one node is seen through the other. Usage: cross_node.py URL-A URL-B. Ends with "N passed, N failed"."""
import base64
import sys
import time
import traceback
import uuid

import boto3
from botocore.config import Config


def client(url):
    return boto3.client("kinesis", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDCLUSTER",
                        aws_secret_access_key="secret", config=Config(retries={"max_attempts": 2}))


def eventually(check, what, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - e.g. not found yet on the other node
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


def read_all(kinesis, stream, shard_id):
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    data = []
    for _ in range(20):
        page = kinesis.get_records(ShardIterator=iterator)
        data += [r["Data"] for r in page["Records"]]
        iterator = page.get("NextShardIterator")
        if not iterator or page["MillisBehindLatest"] == 0:
            break
    return data


def test_records_written_through_each_node_are_read_through_the_other(a, b):
    stream = "cross-" + uuid.uuid4().hex[:8]
    a.create_stream(StreamName=stream, ShardCount=1)
    a.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    eventually(lambda: b.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", "B serves the stream A created")
    sequence_numbers = []
    for i in range(10):
        node = a if i % 2 == 0 else b
        sequence_numbers.append(int(node.put_record(StreamName=stream, PartitionKey="k", Data=f"r{i}".encode())["SequenceNumber"]))
    assert sequence_numbers == sorted(sequence_numbers) and len(set(sequence_numbers)) == 10, sequence_numbers
    expected = [f"r{i}".encode() for i in range(10)]
    assert read_all(a, stream, "shardId-000000000000") == expected
    assert read_all(b, stream, "shardId-000000000000") == expected
    # An iterator from one node is good on the other (one signing key for the cluster).
    iterator = a.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="AT_SEQUENCE_NUMBER",
                                    StartingSequenceNumber=str(sequence_numbers[5]))["ShardIterator"]
    assert [r["Data"] for r in b.get_records(ShardIterator=iterator)["Records"]] == expected[5:]
    b.delete_stream(StreamName=stream)
    eventually(lambda: stream not in a.list_streams()["StreamNames"], "A no longer lists the stream B deleted")


def test_a_reshard_through_one_node_is_served_by_the_other(a, b):
    stream = "cross-reshard-" + uuid.uuid4().hex[:8]
    a.create_stream(StreamName=stream, ShardCount=2)
    eventually(lambda: b.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", "B serves the stream")
    b.put_record(StreamName=stream, PartitionKey="k", ExplicitHashKey="0", Data=b"before")
    b.merge_shards(StreamName=stream, ShardToMerge="shardId-000000000000", AdjacentShardToMerge="shardId-000000000001")
    eventually(lambda: len(a.list_shards(StreamName=stream)["Shards"]) == 3
               and a.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE", "A serves the merged stream")
    put = a.put_record(StreamName=stream, PartitionKey="k", Data=b"after")
    assert put["ShardId"] == "shardId-000000000002", put
    page = b.get_records(ShardIterator=b.get_shard_iterator(StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
    assert [r["Data"] for r in page["Records"]] == [b"before"]
    assert [c["ShardId"] for c in page["ChildShards"]] == ["shardId-000000000002"], page
    a.delete_stream(StreamName=stream)


def test_a_consumer_registered_through_one_node_subscribes_through_the_other(a, b):
    stream = "cross-fanout-" + uuid.uuid4().hex[:8]
    a.create_stream(StreamName=stream, ShardCount=1)
    arn = a.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    consumer = a.register_stream_consumer(StreamARN=arn, ConsumerName="reader")["Consumer"]
    eventually(lambda: b.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE",
               "B knows the consumer A registered")
    a.put_record(StreamName=stream, PartitionKey="k", Data=b"pushed-0")
    events = b.subscribe_to_shard(ConsumerARN=consumer["ConsumerARN"], ShardId="shardId-000000000000",
                                  StartingPosition={"Type": "TRIM_HORIZON"})["EventStream"]
    received = []
    try:
        for event in events:
            records = event["SubscribeToShardEvent"]["Records"]
            received += [r["Data"] for r in records]
            if received == [b"pushed-0"]:
                a.put_record(StreamName=stream, PartitionKey="k", Data=b"pushed-1")  # through A, pushed by B
            if len(received) >= 2:
                break
    finally:
        events.close()
    assert received == [b"pushed-0", b"pushed-1"], received
    b.deregister_stream_consumer(ConsumerARN=consumer["ConsumerARN"])
    eventually(lambda: a.list_stream_consumers(StreamARN=arn)["Consumers"] == [], "A no longer lists the consumer B deregistered")
    a.delete_stream(StreamName=stream)


def test_a_delivery_stream_made_through_one_node_is_changed_through_the_other(a, b):
    fa, fb = (boto3.client("firehose", endpoint_url=k.meta.endpoint_url, region_name="us-east-1", aws_access_key_id="AKIDCLUSTER",
                           aws_secret_access_key="secret", config=Config(retries={"max_attempts": 2})) for k in (a, b))
    name = "cross-fh-" + uuid.uuid4().hex[:8]
    s3 = {"RoleARN": "arn:aws:iam::000000000000:role/r", "BucketARN": "arn:aws:s3:::cross"}
    fa.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3)
    # Read-your-writes: the other node answers at once with what this one stored.
    assert fb.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]["VersionId"] == "1"
    fb.update_destination(DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1", DestinationId="destinationId-000000000001",
                          ExtendedS3DestinationUpdate={"Prefix": "b/"})
    try:
        fa.update_destination(DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1", DestinationId="destinationId-000000000001",
                              ExtendedS3DestinationUpdate={"Prefix": "a/"})
        raise AssertionError("A updated a version B had already replaced")
    except fa.exceptions.ConcurrentModificationException:
        pass
    described = fa.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert described["VersionId"] == "2" and described["Destinations"][0]["ExtendedS3DestinationDescription"]["Prefix"] == "b/", described
    fb.delete_delivery_stream(DeliveryStreamName=name)
    assert name not in fa.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]


def main():
    a, b = client(sys.argv[1]), client(sys.argv[2])
    passed = failed = 0
    for name, test in sorted((n, f) for n, f in globals().items() if n.startswith("test_")):
        try:
            test(a, b)
            passed += 1
            print(f"ok   {name}")
        except Exception:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name}: {traceback.format_exc()}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
