"""Firehose's control plane through boto3's `firehose` client and raw requests (for what Debian's 2022 model lacks):
delivery streams created, described with AWS's defaults, listed, tagged, updated, encrypted and deleted, and AWS's
errors for each (docs/adr/0002-firehose-api.md)."""

import re

from kinesis_support import (ACCOUNT, REGION, KinesisTestCase, delete_delivery_stream_quietly, firehose, raw_firehose,
                             unique_name, wait_until)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/firehose"
BUCKET = "arn:aws:s3:::interop-bucket"
S3 = {"RoleARN": ROLE, "BucketARN": BUCKET}
DESTINATION_ID = "destinationId-000000000001"


class FirehoseTestCase(KinesisTestCase):

    @property
    def firehose(self):
        return firehose()

    def create_delivery_stream(self, tag, **kwargs):
        name = unique_name(tag)
        if not any(k.endswith("DestinationConfiguration") for k in kwargs):
            kwargs["ExtendedS3DestinationConfiguration"] = S3
        self.firehose.create_delivery_stream(DeliveryStreamName=name, **kwargs)
        self.addCleanup(delete_delivery_stream_quietly, name)
        return name

    def describe(self, name):
        return self.firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]

    def assert_raw(self, operation, payload, code, message):
        response = raw_firehose(operation, payload)
        self.assertEqual(response.status, 400, response)
        body = response.json()
        self.assertEqual(body["__type"], code, body)
        if message is not None:
            self.assertEqual(body["message"], message)


class LifecycleTests(FirehoseTestCase):

    def test_create_describe_list_delete(self):
        name = unique_name("fh-life")
        arn = self.firehose.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration=S3)["DeliveryStreamARN"]
        self.addCleanup(delete_delivery_stream_quietly, name)
        self.assertEqual(arn, f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{name}")
        d = self.describe(name)
        self.assertEqual(d["DeliveryStreamName"], name)
        self.assertEqual(d["DeliveryStreamARN"], arn)
        self.assertEqual(d["DeliveryStreamStatus"], "ACTIVE")
        self.assertEqual(d["DeliveryStreamType"], "DirectPut")
        self.assertEqual(d["VersionId"], "1")
        self.assertEqual(d["DeliveryStreamEncryptionConfiguration"], {"Status": "DISABLED"})
        self.assertNotIn("LastUpdateTimestamp", d)
        self.assertFalse(d["HasMoreDestinations"])
        [destination] = d["Destinations"]
        self.assertEqual(destination["DestinationId"], DESTINATION_ID)
        defaults = {"RoleARN": ROLE, "BucketARN": BUCKET, "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 300},
                    "CompressionFormat": "UNCOMPRESSED", "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
                    "CloudWatchLoggingOptions": {"Enabled": False}}
        self.assertEqual(destination["S3DestinationDescription"], defaults)
        self.assertEqual(destination["ExtendedS3DestinationDescription"], dict(defaults, S3BackupMode="Disabled"))
        self.assertIn(name, self.firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"])
        self.firehose.delete_delivery_stream(DeliveryStreamName=name)
        self.assertNotIn(name, self.firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"])
        self.assert_client_error("ResourceNotFoundException", f"Firehose {name} under account {ACCOUNT} not found.",
                                 self.firehose.describe_delivery_stream, DeliveryStreamName=name)

    def test_configuration_given_is_described_with_the_rest_defaulted(self):
        config = dict(S3, Prefix="logs/", CompressionFormat="GZIP", BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 60},
                      ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "AppendDelimiterToRecord", "Parameters": []}]})
        name = self.create_delivery_stream("fh-config", ExtendedS3DestinationConfiguration=config)
        extended = self.describe(name)["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual(extended["Prefix"], "logs/")
        self.assertEqual(extended["CompressionFormat"], "GZIP")
        self.assertEqual(extended["BufferingHints"], {"SizeInMBs": 64, "IntervalInSeconds": 60})
        self.assertEqual(extended["ProcessingConfiguration"]["Processors"][0]["Type"], "AppendDelimiterToRecord")

    def test_interval_zero_is_accepted_as_the_current_model_allows(self):
        name = unique_name("fh-zero")
        response = raw_firehose("CreateDeliveryStream", {"DeliveryStreamName": name, "ExtendedS3DestinationConfiguration":
                                                         dict(S3, BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 0})})
        self.addCleanup(delete_delivery_stream_quietly, name)
        self.assertEqual(response.status, 200, response)
        hints = self.describe(name)["Destinations"][0]["ExtendedS3DestinationDescription"]["BufferingHints"]
        self.assertEqual(hints, {"SizeInMBs": 1, "IntervalInSeconds": 0})

    def test_a_destination_runnel_does_not_deliver_to_fails_its_creation(self):
        name = unique_name("fh-snowflake")  # Snowflake is newer than Debian's model: sent raw
        response = raw_firehose("CreateDeliveryStream", {"DeliveryStreamName": name, "SnowflakeDestinationConfiguration": {
            "AccountUrl": "acme.us-east-1.snowflakecomputing.com", "User": "loader", "PrivateKey": "x" * 256,
            "Database": "db", "Schema": "public", "Table": "events", "RoleARN": ROLE, "S3Configuration": S3}})
        self.addCleanup(delete_delivery_stream_quietly, name)
        self.assertEqual(response.status, 200, response)
        d = self.describe(name)
        self.assertEqual(d["DeliveryStreamStatus"], "CREATING_FAILED")
        self.assertEqual(d["FailureDescription"]["Type"], "UNKNOWN_ERROR")
        self.assertIn("Snowflake", d["FailureDescription"]["Details"])
        self.firehose.delete_delivery_stream(DeliveryStreamName=name)

    def test_a_splunk_destination_is_described_with_awss_defaults(self):
        name = unique_name("fh-splunk")
        self.firehose.create_delivery_stream(DeliveryStreamName=name, SplunkDestinationConfiguration={
            "HECEndpoint": "https://splunk.example:8088", "HECEndpointType": "Raw", "HECToken": "t", "S3Configuration": S3})
        self.addCleanup(delete_delivery_stream_quietly, name)
        d = self.describe(name)
        self.assertEqual(d["DeliveryStreamStatus"], "ACTIVE")
        splunk = d["Destinations"][0]["SplunkDestinationDescription"]
        self.assertEqual(splunk["S3DestinationDescription"]["BucketARN"], BUCKET)
        self.assertEqual((splunk["S3BackupMode"], splunk["RetryOptions"]["DurationInSeconds"]), ("FailedEventsOnly", 3600))
        self.firehose.delete_delivery_stream(DeliveryStreamName=name)

    def test_secrets_are_not_described(self):
        name = self.create_delivery_stream("fh-http", HttpEndpointDestinationConfiguration={
            "EndpointConfiguration": {"Url": "https://receiver.example/in", "Name": "rx", "AccessKey": "secret"}, "S3Configuration": S3})
        described = self.describe(name)["Destinations"][0]["HttpEndpointDestinationDescription"]
        self.assertEqual(described["EndpointConfiguration"], {"Url": "https://receiver.example/in", "Name": "rx"})
        self.assertEqual(described["S3BackupMode"], "FailedDataOnly")
        self.assertEqual(described["S3DestinationDescription"]["CompressionFormat"], "UNCOMPRESSED")

    def test_kinesis_source(self):
        stream = self.create_stream("fh-source")
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        name = self.create_delivery_stream("fh-ks", DeliveryStreamType="KinesisStreamAsSource",
                                           KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE})
        d = self.describe(name)
        self.assertEqual(d["DeliveryStreamType"], "KinesisStreamAsSource")
        self.assertNotIn("DeliveryStreamEncryptionConfiguration", d)
        source = d["Source"]["KinesisStreamSourceDescription"]
        self.assertEqual((source["KinesisStreamARN"], source["RoleARN"]), (stream_arn, ROLE))
        self.assertIn("DeliveryStartTimestamp", source)
        self.assertIn(name, self.firehose.list_delivery_streams(DeliveryStreamType="KinesisStreamAsSource", Limit=10000)["DeliveryStreamNames"])
        self.assertNotIn(name, self.firehose.list_delivery_streams(DeliveryStreamType="DirectPut", Limit=10000)["DeliveryStreamNames"])
        self.assert_client_error("InvalidArgumentException", "This operation is not permitted on KinesisStreamAsSource delivery stream type.",
                                 self.firehose.start_delivery_stream_encryption, DeliveryStreamName=name)

    def test_kinesis_source_errors(self):
        missing = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{unique_name('fh-missing')}"
        self.assert_client_error("InvalidArgumentException", re.compile(r"Stream .* under account \d{12} not found\."),
                                 self.firehose.create_delivery_stream, DeliveryStreamName=unique_name("fh-nosrc"),
                                 DeliveryStreamType="KinesisStreamAsSource", ExtendedS3DestinationConfiguration=S3,
                                 KinesisStreamSourceConfiguration={"KinesisStreamARN": missing, "RoleARN": ROLE})
        self.assert_client_error("InvalidArgumentException", "KinesisSourceStreamConfig is mandatory for KinesisStreamAsSource stream type.",
                                 self.firehose.create_delivery_stream, DeliveryStreamName=unique_name("fh-nocfg"),
                                 DeliveryStreamType="KinesisStreamAsSource", ExtendedS3DestinationConfiguration=S3)

    def test_list_pages_in_name_order(self):
        base = unique_name("fh-list")
        names = [f"{base}-{i}" for i in range(3)]
        for name in reversed(names):
            self.firehose.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration=S3)
            self.addCleanup(delete_delivery_stream_quietly, name)
        page = self.firehose.list_delivery_streams(Limit=2, ExclusiveStartDeliveryStreamName=base)
        self.assertEqual(page["DeliveryStreamNames"], names[:2])
        self.assertTrue(page["HasMoreDeliveryStreams"])
        page = self.firehose.list_delivery_streams(Limit=2, ExclusiveStartDeliveryStreamName=names[1])
        self.assertEqual(page["DeliveryStreamNames"][0], names[2])


class ErrorTests(FirehoseTestCase):

    def test_name_in_use(self):
        name = self.create_delivery_stream("fh-dup")
        self.assert_client_error("ResourceInUseException", f"Firehose {name} under accountId {ACCOUNT} already exists",
                                 self.firehose.create_delivery_stream, DeliveryStreamName=name, ExtendedS3DestinationConfiguration=S3)

    def test_validation_messages(self):
        long_name = "a" * 65
        self.assert_raw("DescribeDeliveryStream", {"DeliveryStreamName": long_name}, "ValidationException",
                        f"1 validation error detected: Value '{long_name}' at 'deliveryStreamName' failed to satisfy constraint: Member must have length less than or equal to 64")
        self.assert_raw("ListDeliveryStreams", {"Limit": 0}, "ValidationException",
                        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
        self.assert_raw("TagDeliveryStream", {"DeliveryStreamName": "x", "Tags": [{"Key": "aws:x", "Value": "v"}]}, "ValidationException",
                        "1 validation error detected: Value 'aws:x' at 'tags.1.member.key' failed to satisfy constraint: "
                        "Member must satisfy regular expression pattern: ^(?!aws:)[\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@%]*$")

    def test_exactly_one_destination(self):
        self.assert_raw("CreateDeliveryStream", {"DeliveryStreamName": unique_name("fh-none")}, "InvalidArgumentException",
                        "Exactly one destination configuration is supported for a Firehose")
        self.assert_raw("CreateDeliveryStream", {"DeliveryStreamName": unique_name("fh-two"), "ExtendedS3DestinationConfiguration": S3,
                                                 "S3DestinationConfiguration": S3}, "InvalidArgumentException",
                        "Exactly one destination configuration is supported for a Firehose")

    def test_prefix_rules(self):
        self.assert_client_error("InvalidArgumentException",
                                 "Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix cannot be null or empty when Prefix contains expressions",
                                 self.firehose.create_delivery_stream, DeliveryStreamName=unique_name("fh-prefix"),
                                 ExtendedS3DestinationConfiguration=dict(S3, Prefix="data/!{timestamp:yyyy}/"))

    def test_dynamic_partitioning_minimums(self):
        self.assert_client_error("InvalidArgumentException", "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled.",
                                 self.firehose.create_delivery_stream, DeliveryStreamName=unique_name("fh-dyn"),
                                 ExtendedS3DestinationConfiguration=dict(S3, Prefix="!{partitionKeyFromQuery:id}/", ErrorOutputPrefix="err/!{firehose:error-output-type}/",
                                                                         DynamicPartitioningConfiguration={"Enabled": True}))


class TagTests(FirehoseTestCase):

    def test_tag_untag_list(self):
        name = self.create_delivery_stream("fh-tags", Tags=[{"Key": "team", "Value": "a"}])
        self.firehose.tag_delivery_stream(DeliveryStreamName=name, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "b"}])
        listed = self.firehose.list_tags_for_delivery_stream(DeliveryStreamName=name)
        self.assertEqual(listed["Tags"], [{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "dev"}])
        self.assertFalse(listed["HasMoreTags"])
        page = self.firehose.list_tags_for_delivery_stream(DeliveryStreamName=name, Limit=1)
        self.assertEqual((page["Tags"], page["HasMoreTags"]), ([{"Key": "team", "Value": "b"}], True))
        page = self.firehose.list_tags_for_delivery_stream(DeliveryStreamName=name, ExclusiveStartTagKey="team")
        self.assertEqual(page["Tags"], [{"Key": "env", "Value": "dev"}])
        self.firehose.untag_delivery_stream(DeliveryStreamName=name, TagKeys=["team", "absent"])
        self.assertEqual(self.firehose.list_tags_for_delivery_stream(DeliveryStreamName=name)["Tags"], [{"Key": "env", "Value": "dev"}])

    def test_at_most_50_tags(self):
        name = self.create_delivery_stream("fh-50", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
        self.assert_client_error("LimitExceededException", None, self.firehose.tag_delivery_stream,
                                 DeliveryStreamName=name, Tags=[{"Key": "one-more", "Value": "v"}])
        self.firehose.tag_delivery_stream(DeliveryStreamName=name, Tags=[{"Key": "k0", "Value": "replaced"}])
        self.assertEqual(len(self.firehose.list_tags_for_delivery_stream(DeliveryStreamName=name)["Tags"]), 50)

    def test_tags_of_a_stream_that_is_not_there(self):
        missing = unique_name("fh-notags")
        self.assert_client_error("ResourceNotFoundException", f"Firehose {missing} under account {ACCOUNT} not found.",
                                 self.firehose.list_tags_for_delivery_stream, DeliveryStreamName=missing)


class UpdateAndEncryptionTests(FirehoseTestCase):

    def test_update_merges_and_counts_versions(self):
        name = self.create_delivery_stream("fh-upd", ExtendedS3DestinationConfiguration=dict(S3, CompressionFormat="GZIP"))
        self.firehose.update_destination(DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1", DestinationId=DESTINATION_ID,
                                         ExtendedS3DestinationUpdate={"Prefix": "new/"})
        d = self.describe(name)
        self.assertEqual(d["VersionId"], "2")
        self.assertIn("LastUpdateTimestamp", d)
        extended = d["Destinations"][0]["ExtendedS3DestinationDescription"]
        self.assertEqual((extended["Prefix"], extended["CompressionFormat"]), ("new/", "GZIP"))
        self.assert_client_error("ConcurrentModificationException",
                                 f"Cannot update firehose: {name} since the current version id: 2 and specified version id: 1 do not match",
                                 self.firehose.update_destination, DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1",
                                 DestinationId=DESTINATION_ID, ExtendedS3DestinationUpdate={"Prefix": "again/"})
        self.assert_client_error("InvalidArgumentException", "Destination Id destinationId-000000000002 not found",
                                 self.firehose.update_destination, DeliveryStreamName=name, CurrentDeliveryStreamVersionId="2",
                                 DestinationId="destinationId-000000000002", ExtendedS3DestinationUpdate={"Prefix": "again/"})

    def test_update_to_another_kind_replaces(self):
        name = self.create_delivery_stream("fh-switch")
        self.firehose.update_destination(DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1", DestinationId=DESTINATION_ID,
                                         HttpEndpointDestinationUpdate={"EndpointConfiguration": {"Url": "https://rx.example"}, "S3Update": S3})
        destination = self.describe(name)["Destinations"][0]
        self.assertNotIn("ExtendedS3DestinationDescription", destination)
        self.assertEqual(destination["HttpEndpointDestinationDescription"]["EndpointConfiguration"]["Url"], "https://rx.example")

    def test_start_and_stop_encryption(self):
        name = self.create_delivery_stream("fh-sse")
        self.firehose.start_delivery_stream_encryption(DeliveryStreamName=name)
        self.assertEqual(self.describe(name)["DeliveryStreamEncryptionConfiguration"], {"KeyType": "AWS_OWNED_CMK", "Status": "ENABLED"})
        key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        self.firehose.start_delivery_stream_encryption(DeliveryStreamName=name, DeliveryStreamEncryptionConfigurationInput={
            "KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": key})
        self.assertEqual(self.describe(name)["DeliveryStreamEncryptionConfiguration"],
                         {"KeyARN": key, "KeyType": "CUSTOMER_MANAGED_CMK", "Status": "ENABLED"})
        self.firehose.stop_delivery_stream_encryption(DeliveryStreamName=name)
        self.assertEqual(self.describe(name)["DeliveryStreamEncryptionConfiguration"], {"Status": "DISABLED"})
        self.assert_client_error("InvalidArgumentException", "KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.",
                                 self.firehose.start_delivery_stream_encryption, DeliveryStreamName=name,
                                 DeliveryStreamEncryptionConfigurationInput={"KeyType": "CUSTOMER_MANAGED_CMK"})


class RecordTests(FirehoseTestCase):

    def test_put_record_and_batch(self):
        name = self.create_delivery_stream("fh-put")
        answer = self.firehose.put_record(DeliveryStreamName=name, Record={"Data": b"one\n"})
        self.assertTrue(answer["RecordId"])
        self.assertFalse(answer["Encrypted"])
        answer = self.firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": f"r{i}\n".encode()} for i in range(500)])
        self.assertEqual(answer["FailedPutCount"], 0)
        self.assertEqual(len(answer["RequestResponses"]), 500)
        self.assertEqual(len({r["RecordId"] for r in answer["RequestResponses"]}), 500)
        self.assertTrue(all(set(r) == {"RecordId"} for r in answer["RequestResponses"]))

    def test_put_limits(self):
        name = self.create_delivery_stream("fh-limits")
        self.assert_raw("PutRecordBatch", {"DeliveryStreamName": name, "Records": [{"Data": "AAAA"}] * 501}, "ValidationException", None)
        response = raw_firehose("PutRecordBatch", {"DeliveryStreamName": name, "Records": [{"Data": "AAAA"}] * 501})
        message = response.json()["message"]
        self.assertTrue(message.startswith("1 validation error detected: Value '[Record(data=java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]), "), message)
        self.assertTrue(message.endswith("]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"), message)
        self.assert_client_error("InvalidArgumentException", "Records size exceeds 4 MB limit", self.firehose.put_record_batch,
                                 DeliveryStreamName=name, Records=[{"Data": bytes(1_000_000)}] * 5)
        self.assert_client_error("ValidationException", None, self.firehose.put_record,
                                 DeliveryStreamName=name, Record={"Data": bytes(1_024_001)})
        missing = unique_name("fh-put-missing")
        self.assert_client_error("ResourceNotFoundException", f"Firehose {missing} under account {ACCOUNT} not found.",
                                 self.firehose.put_record, DeliveryStreamName=missing, Record={"Data": b"x"})

    def test_put_to_a_kinesis_sourced_stream_is_refused(self):
        stream = self.create_stream("fh-put-src")
        name = self.create_delivery_stream("fh-put-ks", DeliveryStreamType="KinesisStreamAsSource", KinesisStreamSourceConfiguration={
            "KinesisStreamARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}", "RoleARN": ROLE})
        self.assert_client_error("InvalidArgumentException", "This operation is not permitted on KinesisStreamAsSource delivery stream type.",
                                 self.firehose.put_record_batch, DeliveryStreamName=name, Records=[{"Data": b"x"}])


class DynamicPartitioningRuleTests(FirehoseTestCase):

    def test_partition_keys_must_come_from_the_query(self):
        dynamic = dict(S3, Prefix="!{partitionKeyFromQuery:id}/", ErrorOutputPrefix="err/!{firehose:error-output-type}/",
                       DynamicPartitioningConfiguration={"Enabled": True}, BufferingHints={"SizeInMBs": 64, "IntervalInSeconds": 60})
        self.assert_client_error("InvalidArgumentException", re.compile(r"partitionKeyFromQuery expressions need a MetadataExtraction processor.*"),
                                 self.firehose.create_delivery_stream, DeliveryStreamName=unique_name("fh-noquery"),
                                 ExtendedS3DestinationConfiguration=dynamic)
        query = {"Enabled": True, "Processors": [{"Type": "MetadataExtraction", "Parameters": [
            {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{id:.id, other:.other}"},
            {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]}
        self.assert_client_error("InvalidArgumentException",
                                 "When dynamic partitioning via inline parsing is enabled, you must use all specified dynamic partitioning key values for partitioning your data source.",
                                 self.firehose.create_delivery_stream, DeliveryStreamName=unique_name("fh-unused"),
                                 ExtendedS3DestinationConfiguration=dict(dynamic, ProcessingConfiguration=query))
        name = self.create_delivery_stream("fh-dynamic", ExtendedS3DestinationConfiguration=dict(
            dynamic, Prefix="!{partitionKeyFromQuery:id}/!{partitionKeyFromQuery:other}/", ProcessingConfiguration=query))
        self.assertEqual(self.describe(name)["Destinations"][0]["ExtendedS3DestinationDescription"]["DynamicPartitioningConfiguration"],
                         {"Enabled": True, "RetryOptions": {"DurationInSeconds": 300}})
