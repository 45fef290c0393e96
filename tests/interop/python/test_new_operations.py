"""Operations newer than Debian's botocore (late 2022), sent as SigV4-signed requests by botocore's own
signer: resource policies, the record distribution strategy, account settings (read only: the commitment
is account-wide and the JavaScript suite changes it on a server of its own)."""

import base64
import json

from kinesis_support import ACCOUNT, KinesisTestCase, signed_call, stream_arn

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kinesis:*", "Resource": "*"}]})


class NewOperationsTests(KinesisTestCase):

    def ok(self, operation, payload):
        response = signed_call(operation, payload)
        self.assertEqual(response.status, 200, response)
        return response.json() if response.body else None

    def error(self, operation, payload, code, message=None):
        response = signed_call(operation, payload)
        self.assertEqual(response.status, 400, response)
        body = response.json()
        self.assertEqual(body["__type"], code, body)
        if message is not None:
            self.assertEqual(body["message"], message)
        return body

    def test_resource_policy_round_trip(self):
        name = self.create_stream("pypolicy")
        arn = stream_arn(name)
        self.assertEqual(self.ok("GetResourcePolicy", {"ResourceARN": arn}), {"Policy": "{}"})
        self.assertIsNone(self.ok("PutResourcePolicy", {"ResourceARN": arn, "Policy": POLICY}))
        self.assertEqual(self.ok("GetResourcePolicy", {"ResourceARN": arn}), {"Policy": POLICY})
        self.assertIsNone(self.ok("DeleteResourcePolicy", {"ResourceARN": arn}))
        self.assertEqual(self.ok("GetResourcePolicy", {"ResourceARN": arn}), {"Policy": "{}"})
        self.error("PutResourcePolicy", {"ResourceARN": arn, "Policy": "{}"}, "InvalidArgumentException",
                   "Invalid policy document: the policy has no Statement.")
        self.error("DeleteResourcePolicy", {"ResourceARN": stream_arn("py-no-such-stream")}, "ResourceNotFoundException",
                   f"Stream py-no-such-stream under account {ACCOUNT} not found.")

    def test_auto_distribution_without_partition_keys(self):
        name = self.create_stream("pyauto", shard_count=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"], "ACTIVE")
        self.assertIsNone(self.ok("UpdateStreamRecordDistributionStrategy",
                                  {"StreamARN": stream_arn(name), "RecordDistributionStrategy": "AUTO"}))
        summary = self.ok("DescribeStreamSummary", {"StreamName": name})["StreamDescriptionSummary"]
        self.assertEqual(summary["RecordDistributionStrategy"], "AUTO")
        records = [{"Data": base64.b64encode(b"x%d" % i).decode()} for i in range(8)]
        put = self.ok("PutRecords", {"StreamName": name, "Records": records})
        self.assertEqual(put["FailedRecordCount"], 0)
        self.assertEqual(len({r["ShardId"] for r in put["Records"]}), 4, "dealt out over the 4 shards")
        self.assertTrue(all(len(r["SequenceNumber"]) == 56 for r in put["Records"]))
        # boto3's GetRecords reads them back; a record put without a key has none.
        shard = put["Records"][0]["ShardId"]
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        got = self.kinesis.get_records(ShardIterator=iterator)["Records"]
        self.assertTrue(got and all("PartitionKey" not in r for r in got))

    def test_account_settings_and_warm_throughput_errors(self):
        settings = self.ok("DescribeAccountSettings", {})["MinimumThroughputBillingCommitment"]
        self.assertEqual(settings, {"Status": "DISABLED"})
        name = self.create_stream("pywarm", shard_count=None, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        body = self.error("UpdateStreamWarmThroughput", {"StreamName": name, "WarmThroughputMiBps": 8}, "InvalidArgumentException")
        self.assertIn("minimum throughput billing commitment", body["message"])
        self.error("UpdateAccountSettings", {}, "ValidationException",
                   "1 validation error detected: Value null at 'minimumThroughputBillingCommitment' failed to satisfy constraint: Member must not be null")
