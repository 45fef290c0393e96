"""boto3 as two accounts of one server (a key's account_id in the credentials file): the same stream name in each is two
streams, each listed, described, written, read and fanned out under its own account's ARN; the other account is refused
it by ARN (no resource policy) and does not see it by name.
Usage: boto3_accounts.py ENDPOINT KEY SECRET PARTNER-KEY PARTNER-SECRET PARTNER-ACCOUNT."""
import sys
import time
import uuid

import boto3
from botocore.exceptions import ClientError

endpoint, key, secret, partner_key, partner_secret, partner_account = sys.argv[1:7]


def client(k, s):
    return boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=k, aws_secret_access_key=s)


own, partner = client(key, secret), client(partner_key, partner_secret)
name = "accounts-" + uuid.uuid4().hex[:8]
own.create_stream(StreamName=name, ShardCount=1)
partner.create_stream(StreamName=name, ShardCount=2)
for c in (own, partner):
    c.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
own_arn = own.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
partner_summary = partner.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
partner_arn = partner_summary["StreamARN"]
assert partner_arn == f"arn:aws:kinesis:us-east-1:{partner_account}:stream/{name}", partner_arn
assert own_arn != partner_arn and partner_summary["OpenShardCount"] == 2, (own_arn, partner_summary)
assert partner.list_streams()["StreamNames"].count(name) == 1

partner.put_record(StreamName=name, PartitionKey="k", Data=b"partner's")
own.put_record(StreamName=name, PartitionKey="k", Data=b"own")
shards = [s["ShardId"] for s in partner.list_shards(StreamName=name)["Shards"]]  # Debian's botocore: no StreamARN here
data = []
for shard in shards:
    it = partner.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    data += [r["Data"] for r in partner.get_records(ShardIterator=it)["Records"]]
assert data == [b"partner's"], data

consumer = partner.register_stream_consumer(StreamARN=partner_arn, ConsumerName="fanout")["Consumer"]
assert consumer["ConsumerARN"].startswith(partner_arn + "/consumer/fanout:"), consumer
for _ in range(100):
    if partner.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE":
        break
    time.sleep(0.1)
shard = partner.put_record(StreamName=name, PartitionKey="k", Data=b"pushed")["ShardId"]
events = partner.subscribe_to_shard(ConsumerARN=consumer["ConsumerARN"], ShardId=shard, StartingPosition={"Type": "TRIM_HORIZON"})["EventStream"]
pushed = []
try:
    for event in events:
        pushed += [r["Data"] for r in event["SubscribeToShardEvent"]["Records"]]
        if b"pushed" in pushed:
            break
finally:
    events.close()
assert b"pushed" in pushed, pushed

try:
    own.list_stream_consumers(StreamARN=partner_arn)
    raise AssertionError("another account's stream was read without a resource policy")
except ClientError as e:
    assert e.response["Error"]["Code"] == "AccessDeniedException", e.response
    assert "because no resource-based policy allows" in e.response["Error"]["Message"], e.response
try:
    partner.describe_stream_summary(StreamName="missing-" + name)
    raise AssertionError("a missing stream was described")
except ClientError as e:
    assert e.response["Error"]["Message"] == f"Stream missing-{name} under account {partner_account} not found.", e.response

partner.delete_stream(StreamName=name, EnforceConsumerDeletion=True)
own.delete_stream(StreamName=name)
print("boto3: two accounts, two streams of one name, each under its own ARN")
