import boto3, json, time, sys
c = boto3.client("kinesis", endpoint_url=sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:4599", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
c.create_stream(StreamName="legacy", ShardCount=2)
c.get_waiter("stream_exists").wait(StreamName="legacy", WaiterConfig={"Delay": 1})
out = {"before": [], "after": []}
for i in range(6):
    r = c.put_record(StreamName="legacy", PartitionKey=f"pk-{i}", Data=f"before-{i}".encode())
    out["before"].append({"pk": f"pk-{i}", "data": f"before-{i}", "shard": r["ShardId"], "seq": r["SequenceNumber"]})
c.split_shard(StreamName="legacy", ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
c.get_waiter("stream_exists").wait(StreamName="legacy", WaiterConfig={"Delay": 1})
for i in range(6):
    r = c.put_record(StreamName="legacy", PartitionKey=f"pk-{i}", Data=f"after-{i}".encode())
    out["after"].append({"pk": f"pk-{i}", "data": f"after-{i}", "shard": r["ShardId"], "seq": r["SequenceNumber"]})
arn = c.describe_stream_summary(StreamName="legacy")["StreamDescriptionSummary"]["StreamARN"]
c.register_stream_consumer(StreamARN=arn, ConsumerName="old-consumer")
out["shards"] = c.list_shards(StreamName="legacy")["Shards"]
json.dump(out, open("datadir-v3.expected.json", "w"), indent=1)
print(json.dumps(out, indent=1)[:1500])
