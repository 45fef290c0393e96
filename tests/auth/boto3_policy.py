"""boto3 with a key whose IAM policy (in the server's credentials file) allows writing one stream: PutRecord answers,
reading, deleting and other services are refused with AccessDeniedException in AWS's message form.
Usage: boto3_policy.py ENDPOINT ADMIN-KEY ADMIN-SECRET PRODUCER-KEY PRODUCER-SECRET (the stream is named "policy-orders")."""
import sys

import boto3
from botocore.exceptions import ClientError

endpoint, admin_key, admin_secret, producer_key, producer_secret = sys.argv[1:6]


def client(service, key, secret):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret)


admin = client("kinesis", admin_key, admin_secret)
producer = client("kinesis", producer_key, producer_secret)
name = "policy-orders"
if name not in admin.list_streams()["StreamNames"]:
    admin.create_stream(StreamName=name, ShardCount=1)
    admin.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
assert producer.put_record(StreamName=name, PartitionKey="k", Data=b"allowed")["SequenceNumber"]


def refused(call, action):
    try:
        call()
    except ClientError as e:
        error = e.response["Error"]
        assert error["Code"] in ("AccessDeniedException", "AccessDenied"), error
        assert f"is not authorized to perform: {action}" in error["Message"], error
        return
    raise AssertionError(f"{action} was allowed")


refused(lambda: producer.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"), "kinesis:GetShardIterator")
refused(lambda: producer.delete_stream(StreamName=name), "kinesis:DeleteStream")
refused(lambda: client("firehose", producer_key, producer_secret).list_delivery_streams(), "firehose:ListDeliveryStreams")
refused(lambda: client("cloudwatch", producer_key, producer_secret).list_metrics(Namespace="AWS/Kinesis"), "cloudwatch:ListMetrics")
admin.delete_stream(StreamName=name)
print("boto3: the producer key writes its stream and is refused the rest")
