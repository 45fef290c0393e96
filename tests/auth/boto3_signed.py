"""boto3 signing with a key of the server's credentials file: Kinesis (JSON 1.1), Firehose and CloudWatch (the query
protocol) answer; the same calls with a wrong secret or an unknown key get AWS's errors."""
import sys
import uuid

import boto3
from botocore.exceptions import ClientError

endpoint, key, secret = sys.argv[1:4]


def client(service, access_key=key, secret_key=secret):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=access_key, aws_secret_access_key=secret_key)


kinesis = client("kinesis")
name = "auth-" + uuid.uuid4().hex[:8]
kinesis.create_stream(StreamName=name, ShardCount=1)
kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"signed")
iterator = kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
assert [r["Data"] for r in kinesis.get_records(ShardIterator=iterator)["Records"]] == [b"signed"]
client("firehose").list_delivery_streams()
client("cloudwatch").list_metrics(Namespace="AWS/Kinesis")
for access_key, secret_key, expected in (("AKIAUNKNOWN0000000", secret, "UnrecognizedClientException"), (key, "wrong", "InvalidSignatureException")):
    try:
        client("kinesis", access_key, secret_key).list_streams()
        raise AssertionError(f"{access_key}/{secret_key[:2]}… was let in")
    except ClientError as e:
        assert e.response["Error"]["Code"] == expected, e.response["Error"]
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
kinesis.delete_stream(StreamName=name)
print("boto3: signed calls answered, wrong ones refused")
