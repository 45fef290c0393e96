"""Request validation, type checks and error ordering, as AWS reports them (fact sheet sections 2 and 3).

botocore validates some inputs itself, so these send raw JSON requests with a dummy SigV4 header.
"""

from kinesis_support import HASH_KEY_SPACE, KinesisTestCase, raw_call, unique_name

NAME_PATTERN = "[a-zA-Z0-9_.-]+"


def one(message):
    return f"1 validation error detected: {message}"


class ValidationMessageTests(KinesisTestCase):

    def assert_validation(self, operation, payload, message):
        self.assert_raw_error(raw_call(operation, payload), 400, "ValidationException", message)

    def test_create_stream_empty_name(self):
        self.assert_validation("CreateStream", {"StreamName": "", "ShardCount": 1},
                               "2 validation errors detected: "
                               f"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}; "
                               "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1")

    def test_create_stream_empty_name_and_zero_shards(self):
        self.assert_validation("CreateStream", {"StreamName": "", "ShardCount": 0},
                               "3 validation errors detected: "
                               "Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; "
                               f"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}; "
                               "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1")

    def test_create_stream_name_too_long(self):
        name = "a" * 129
        self.assert_validation("CreateStream", {"StreamName": name, "ShardCount": 1},
                               one(f"Value '{name}' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128"))

    def test_create_stream_name_with_bad_characters(self):
        self.assert_validation("CreateStream", {"StreamName": "has space", "ShardCount": 1},
                               one(f"Value 'has space' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}"))

    def test_create_stream_without_name(self):
        self.assert_validation("CreateStream", {"ShardCount": 1},
                               one("Value null at 'streamName' failed to satisfy constraint: Member must not be null"))

    def test_create_stream_bad_stream_mode(self):
        response = raw_call("CreateStream", {"StreamName": unique_name("badmode"), "StreamModeDetails": {"StreamMode": "FAST"}})
        self.assertEqual(response.status, 400)
        body = response.json()
        self.assertEqual(body["__type"], "ValidationException")
        self.assertIn("Value 'FAST' at 'streamModeDetails.streamMode' failed to satisfy constraint: "
                      "Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]", body["message"])

    def test_put_record_empty_request(self):
        self.assert_validation("PutRecord", {},
                               "3 validation errors detected: "
                               "Value null at 'partitionKey' failed to satisfy constraint: Member must not be null; "
                               "Value null at 'data' failed to satisfy constraint: Member must not be null; "
                               "Value null at 'streamName' failed to satisfy constraint: Member must not be null")

    def test_put_record_everything_empty(self):
        self.assert_validation("PutRecord", {"SequenceNumberForOrdering": "", "PartitionKey": "", "Data": "", "ExplicitHashKey": "", "StreamName": ""},
                               "5 validation errors detected: "
                               "Value '' at 'sequenceNumberForOrdering' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128}); "
                               "Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; "
                               "Value '' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); "
                               f"Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}; "
                               "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1")

    def test_put_record_partition_key_too_long(self):
        key = "k" * 257
        self.assert_validation("PutRecord", {"StreamName": unique_name("pk"), "PartitionKey": key, "Data": ""},
                               one(f"Value '{key}' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256"))

    def test_put_records_empty_list(self):
        self.assert_validation("PutRecords", {"StreamName": unique_name("empty"), "Records": []},
                               one("Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"))

    def test_put_records_child_paths_are_one_based(self):
        self.assert_validation("PutRecords", {"StreamName": unique_name("child"), "Records": [
            {"PartitionKey": "ok", "Data": ""}, {"PartitionKey": "", "Data": "", "ExplicitHashKey": "x"}]},
            "2 validation errors detected: "
            "Value '' at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; "
            "Value 'x' at 'records.2.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})")

    def test_put_records_501_records_caps_at_ten_messages(self):
        response = raw_call("PutRecords", {"StreamName": "", "Records": [{"PartitionKey": "", "Data": ""}] * 501})
        self.assertEqual(response.status, 400)
        body = response.json()
        self.assertEqual(body["__type"], "ValidationException")
        message = body["message"]
        self.assertTrue(message.startswith("10 validation errors detected: Value '[com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@"), message[:200])
        parts = message.split("; ")
        self.assertEqual(len(parts), 10, message[-2000:])
        self.assertTrue(parts[0].endswith("]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"), parts[0][-200:])
        for i, part in enumerate(parts[1:], start=1):
            self.assertEqual(part, f"Value '' at 'records.{i}.member.partitionKey' failed to satisfy constraint: "
                                   "Member must have length greater than or equal to 1")

    def test_get_records_empty_iterator_and_zero_limit(self):
        self.assert_validation("GetRecords", {"ShardIterator": "", "Limit": 0},
                               "2 validation errors detected: "
                               "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; "
                               "Value '' at 'shardIterator' failed to satisfy constraint: Member must have length greater than or equal to 1")

    def test_get_records_limit_too_high(self):
        self.assert_validation("GetRecords", {"ShardIterator": "x", "Limit": 10001},
                               one("Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"))

    def test_get_shard_iterator_type_enum(self):
        self.assert_validation("GetShardIterator", {"StreamName": unique_name("enum"), "ShardId": "shardId-000000000000", "ShardIteratorType": "SIDEWAYS"},
                               one("Value 'SIDEWAYS' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: "
                                   "[AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"))

    def test_get_shard_iterator_empty_request(self):
        self.assert_validation("GetShardIterator", {"StreamName": unique_name("gsi")},
                               "2 validation errors detected: "
                               "Value null at 'shardId' failed to satisfy constraint: Member must not be null; "
                               "Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null")

    def test_starting_sequence_number_pattern(self):
        self.assert_validation("GetShardIterator", {"StreamName": unique_name("seqpat"), "ShardId": "shardId-000000000000",
                                                    "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": "12a"},
                               one("Value '12a' at 'startingSequenceNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})"))

    def test_list_streams_limit_bounds(self):
        self.assert_validation("ListStreams", {"Limit": 0},
                               one("Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"))
        self.assert_validation("ListStreams", {"Limit": 100000},
                               one("Value '100000' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"))

    def test_integers_are_clamped_to_int32_before_validation(self):
        self.assert_validation("ListStreams", {"Limit": 100000000000},
                               one("Value '2147483647' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"))

    def test_list_tags_limit(self):
        self.assert_validation("ListTagsForStream", {"StreamName": unique_name("tl"), "Limit": 51},
                               one("Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50"))

    def test_describe_stream_limit_and_shard_id(self):
        self.assert_validation("DescribeStream", {"StreamName": unique_name("ds"), "Limit": 0, "ExclusiveStartShardId": ""},
                               "3 validation errors detected: "
                               "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; "
                               f"Value '' at 'exclusiveStartShardId' failed to satisfy constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}; "
                               "Value '' at 'exclusiveStartShardId' failed to satisfy constraint: Member must have length greater than or equal to 1")

    def test_monitoring_metrics_list_bounds(self):
        self.assert_validation("EnableEnhancedMonitoring", {"StreamName": unique_name("mon"), "ShardLevelMetrics": []},
                               one("Value '[]' at 'shardLevelMetrics' failed to satisfy constraint: Member must have length greater than or equal to 1"))


class SerializationTests(KinesisTestCase):
    """Wrong JSON types: SerializationException with a capital-M Message (fact sheet 2.4)."""

    def assert_type_error(self, operation, payload, message):
        self.assert_raw_error(raw_call(operation, payload), 400, "SerializationException", message, message_field="Message")

    def test_string_member_with_other_types(self):
        cases = [
            (1, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"),
            (True, "class java.lang.Boolean can not be converted to an String"),
            ([], "Start of list found where not expected"),
            ({}, "Start of structure or map found where not expected."),
        ]
        for value, message in cases:
            with self.subTest(value=value):
                self.assert_type_error("DescribeStream", {"StreamName": value}, message)

    def test_integer_member_with_other_types(self):
        self.assert_type_error("CreateStream", {"StreamName": unique_name("int"), "ShardCount": "1"},
                               "class java.lang.String can not be converted to an Integer")
        self.assert_type_error("CreateStream", {"StreamName": unique_name("int"), "ShardCount": False},
                               "class java.lang.Boolean can not be converted to an Integer")

    def test_boolean_member_with_other_types(self):
        self.assert_type_error("DeleteStream", {"StreamName": unique_name("bool"), "EnforceConsumerDeletion": "23"},
                               "'23' can not be converted to an Boolean")
        self.assert_type_error("DeleteStream", {"StreamName": unique_name("bool"), "EnforceConsumerDeletion": 1},
                               "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean")

    def test_blob_base64_rules(self):
        name = unique_name("blob")
        cases = [
            ("23456", "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
            ("=+/=", "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='"),
            ("+/+=", "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"),
            (1, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob"),
            (True, "class java.lang.Boolean can not be converted to a Blob"),
        ]
        for data, message in cases:
            with self.subTest(data=data):
                self.assert_type_error("PutRecord", {"StreamName": name, "PartitionKey": "k", "Data": data}, message)

    def test_timestamp_member_with_string(self):
        self.assert_type_error("GetShardIterator", {"StreamName": unique_name("ts"), "ShardId": "shardId-000000000000",
                                                    "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": "2020-01-01"},
                               "class java.lang.String can not be converted to milliseconds since epoch")

    def test_collection_and_structure_members_with_wrong_types(self):
        name = unique_name("coll")
        self.assert_type_error("PutRecords", {"StreamName": name, "Records": "x"}, "Expected list or null")
        self.assert_type_error("PutRecords", {"StreamName": name, "Records": {}}, "Start of structure or map found where not expected.")
        self.assert_type_error("AddTagsToStream", {"StreamName": name, "Tags": "x"}, "Expected map or null")
        self.assert_type_error("AddTagsToStream", {"StreamName": name, "Tags": []}, "Start of list found where not expected")
        self.assert_type_error("CreateStream", {"StreamName": name, "StreamModeDetails": "x"}, "Expected null")

    def test_type_check_comes_before_validation(self):
        # The empty StreamName would fail validation, but the type error is reported first.
        self.assert_type_error("CreateStream", {"StreamName": "", "ShardCount": "x"},
                               "class java.lang.String can not be converted to an Integer")


class ErrorOrderTests(KinesisTestCase):

    def test_validation_before_stream_lookup(self):
        response = raw_call("PutRecord", {"StreamName": unique_name("order"), "PartitionKey": "", "Data": ""})
        self.assert_raw_error(response, 400, "ValidationException",
                              one("Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1"))

    def test_stream_lookup_before_argument_checks(self):
        name = unique_name("order")
        self.assert_raw_error(raw_call("IncreaseStreamRetentionPeriod", {"StreamName": name, "RetentionPeriodHours": 1}),
                              400, "ResourceNotFoundException", self.not_found(name))
        self.assert_raw_error(raw_call("PutRecord", {"StreamName": name, "PartitionKey": "k", "Data": "",
                                                     "ExplicitHashKey": str(HASH_KEY_SPACE)}),
                              400, "ResourceNotFoundException", self.not_found(name))
        self.assert_raw_error(raw_call("AddTagsToStream", {"StreamName": name, "Tags": {"a;": "b"}}),
                              400, "ResourceNotFoundException", self.not_found(name))

    def test_empty_data_is_a_valid_blob(self):
        name = self.create_stream("emptydata")
        response = raw_call("PutRecord", {"StreamName": name, "PartitionKey": "k", "Data": ""})
        self.assertEqual(response.status, 200, response)

    def test_neither_stream_name_nor_arn(self):
        # AWS's text for this case is not captured (fact sheet 5); accept either form it recommends:
        # InvalidArgumentException, or the captured older validation message for a missing streamName.
        for operation in ("DescribeStream", "DescribeStreamSummary", "DeleteStream", "ListTagsForStream"):
            with self.subTest(operation):
                response = raw_call(operation, {})
                self.assertEqual(response.status, 400, response)
                body = response.json()
                if body.get("__type") != "InvalidArgumentException":
                    self.assertEqual(body, {"__type": "ValidationException", "message": one(
                        "Value null at 'streamName' failed to satisfy constraint: Member must not be null")})
