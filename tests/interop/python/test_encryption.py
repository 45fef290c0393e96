"""Encryption at rest through boto3: StartStreamEncryption and StopStreamEncryption as AWS answers them, and the
EncryptionType that PutRecord, PutRecords, DescribeStream and each record of GetRecords report."""

from botocore.exceptions import ClientError

from kinesis_support import KinesisTestCase


class EncryptionTests(KinesisTestCase):

    def read_all(self, name):
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        return self.kinesis.get_records(ShardIterator=iterator)["Records"]

    def test_records_written_while_encrypted_say_so_and_all_read_back(self):
        name = self.create_stream("pyenc")
        self.assertNotIn("EncryptionType", self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"before"))
        self.kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        self.kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
        description = self.kinesis.describe_stream(StreamName=name)["StreamDescription"]
        self.assertEqual((description["EncryptionType"], description["KeyId"]), ("KMS", "alias/aws/kinesis"))
        self.assertEqual(self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"during")["EncryptionType"], "KMS")
        put = self.kinesis.put_records(StreamName=name, Records=[{"PartitionKey": "k", "Data": b"batch"}])
        self.assertEqual(put["EncryptionType"], "KMS")
        self.kinesis.stop_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
        self.kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
        self.assertEqual(self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["EncryptionType"], "NONE")
        self.kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"after")
        records = self.read_all(name)
        self.assertEqual([(r["Data"], r.get("EncryptionType")) for r in records],
                         [(b"before", None), (b"during", "KMS"), (b"batch", "KMS"), (b"after", None)])

    def test_bad_key_ids_and_types_are_refused(self):
        name = self.create_stream("pyencbad")
        for key_id, encryption_type, message in (
                ("not-a-key", "KMS", "Received KeyId is not a properly formatted Alias or GUID"),
                ("alias/aws/kinesis", "NONE", "KMS is the only valid EncryptionType for this request")):
            with self.assertRaises(ClientError) as caught:
                self.kinesis.start_stream_encryption(StreamName=name, EncryptionType=encryption_type, KeyId=key_id)
            self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidArgumentException")
            self.assertEqual(caught.exception.response["Error"]["Message"], message)
