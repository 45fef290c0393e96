#!/usr/bin/python3
"""Bad input never gets a 500: random requests against a running server, every answer must be an AWS error
(4xx with a __type) or a success, and the server must keep answering.

Cases: RUNNEL_FUZZ_CASES (default 3000, a few seconds; 200000 by hand, see docs/compatibility.md). The seed
is printed so a failure can be replayed with RUNNEL_FUZZ_SEED.
Usage: /usr/bin/python3 fuzz.py http://127.0.0.1:4567
"""
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request

ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KINESIS_ENDPOINT", "http://127.0.0.1:4567")
CASES = int(os.environ.get("RUNNEL_FUZZ_CASES", "3000"))
SEED = int(os.environ.get("RUNNEL_FUZZ_SEED", str(int(time.time()))))
STREAM = f"fuzz-{SEED % 100000}"

OPERATIONS = [
    "CreateStream", "DeleteStream", "DescribeStream", "DescribeStreamSummary", "ListStreams", "ListShards", "PutRecord",
    "PutRecords", "GetShardIterator", "GetRecords", "IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod",
    "AddTagsToStream", "RemoveTagsFromStream", "ListTagsForStream", "TagResource", "UntagResource", "ListTagsForResource",
    "DescribeLimits", "EnableEnhancedMonitoring", "DisableEnhancedMonitoring", "SplitShard", "MergeShards",
    "UpdateShardCount", "UpdateStreamMode", "UpdateMaxRecordSize",
    # Registered consumers and the current SDK's operations. SubscribeToShard is left out: a request that happened
    # to be valid would hold its event stream open for minutes. UpdateAccountSettings only ever sees words other
    # than ENABLED, so the account-wide commitment of the shared server is never switched on.
    "RegisterStreamConsumer", "DescribeStreamConsumer", "ListStreamConsumers", "DeregisterStreamConsumer",
    "PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy", "DescribeAccountSettings", "UpdateAccountSettings",
    "UpdateStreamWarmThroughput", "UpdateStreamRecordDistributionStrategy",
]
MEMBERS = [
    "StreamName", "StreamARN", "ShardCount", "Limit", "ExclusiveStartShardId", "ExclusiveStartStreamName", "NextToken",
    "MaxResults", "StreamCreationTimestamp", "ShardFilter", "PartitionKey", "Data", "ExplicitHashKey",
    "SequenceNumberForOrdering", "Records", "ShardId", "ShardIteratorType", "StartingSequenceNumber", "Timestamp",
    "ShardIterator", "RetentionPeriodHours", "Tags", "TagKeys", "ExclusiveStartTagKey", "ResourceARN", "ShardLevelMetrics",
    "ShardToSplit", "NewStartingHashKey", "ShardToMerge", "AdjacentShardToMerge", "TargetShardCount", "ScalingType",
    "StreamModeDetails", "MaxRecordSizeInKiB", "EnforceConsumerDeletion",
    "ConsumerName", "ConsumerARN", "Policy", "MinimumThroughputBillingCommitment", "WarmThroughputMiBps",
    "RecordDistributionStrategy", "StreamId", "DryRun",
]
WORDS = ["", "shardId-000000000000", "shardId-000000000001", "0", "340282366920938463463374607431768211456",
         "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "ON_DEMAND", "PROVISIONED", "AQID", "=+/=",
         f"arn:aws:kinesis:us-east-1:000000000000:stream/{STREAM}", "UNIFORM_SCALING", "AFTER_SHARD_ID", "ALL", STREAM,
         "AUTO", "USER_PARTITION_KEY", "DISABLED", '{"Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:*"}}',
         f"arn:aws:kinesis:us-east-1:000000000000:stream/{STREAM}/consumer/c:1"]


def value(rng, depth=0):
    kind = rng.randint(0, 12)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.randint(-10 ** 20, 10 ** 20)
    if kind == 3:
        return rng.random() * 10 ** rng.randint(-5, 300)
    if kind in (4, 5):
        return rng.choice(WORDS)
    if kind == 6 and depth < 3:
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == 7 and depth < 3:
        return {rng.choice(MEMBERS + ["Type", "StreamMode", "Status", "x"]): value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if kind == 8:
        return "x" * rng.randint(0, 700)
    if kind == 9:
        return rng.randint(0, 6)
    if kind == 10:
        return "".join(chr(rng.randint(1, 0xD7FF)) for _ in range(rng.randint(1, 8)))
    return rng.choice([1e308, -0.0, 2 ** 63, -(2 ** 63) - 1])


def body_for(rng):
    """Mostly JSON objects with random members; now and then raw bytes or another content type."""
    roll = rng.random()
    if roll < 0.05:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 64))), rng.choice(
            ["application/x-amz-json-1.1", "application/x-amz-cbor-1.1", "application/json", "text/plain"])
    members = {m: value(rng) for m in rng.sample(MEMBERS, rng.randint(0, 6))}
    if rng.random() < 0.6:
        members["StreamName"] = STREAM
    return json.dumps(members).encode(), "application/x-amz-json-1.1"


def call(operation, body, content_type):
    request = urllib.request.Request(ENDPOINT + "/", data=body, method="POST", headers={
        "Content-Type": content_type, "X-Amz-Target": "Kinesis_20131202." + operation,
        "Authorization": "AWS4-HMAC-SHA256 Credential=fuzz/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0",
        "X-Amz-Date": "20260101T000000Z"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def main():
    rng = random.Random(SEED)
    call("CreateStream", json.dumps({"StreamName": STREAM, "ShardCount": 2}).encode(), "application/x-amz-json-1.1")
    failures = []
    deadline = time.monotonic() + 300
    for case in range(CASES):
        if time.monotonic() > deadline:
            failures.append(f"time cap reached after {case} cases")
            break
        operation = rng.choice(OPERATIONS)
        body, content_type = body_for(rng)
        try:
            status, answer = call(operation, body, content_type)
        except Exception as error:  # a dropped connection or a timeout is a failure too
            failures.append(f"case {case}: {operation} {body[:200]!r}: {error}")
            continue
        if status >= 500:
            failures.append(f"case {case}: {operation} {content_type} {body[:200]!r} -> {status} {answer[:200]!r}")
    call("DeleteStream", json.dumps({"StreamName": STREAM}).encode(), "application/x-amz-json-1.1")
    for failure in failures[:20]:
        print("FAIL", failure)
    print(f"fuzz: {CASES} cases, seed {SEED}, {len(failures)} answered 5xx or failed")
    print(f"{1 if not failures else 0} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
