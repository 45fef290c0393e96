"""ListShards (paging and every ShardFilter type) and stream tags through both tag APIs."""

import datetime

from kinesis_support import ACCOUNT, KinesisTestCase, raw_call, stream_arn, unique_name

ILLEGAL_TAG_CHARACTERS = ("Some tags contain invalid characters. Valid characters: "
                          "Unicode letters, digits, white space, _ . / = + - % @.")


def shard_ids(shards):
    return [s["ShardId"] for s in shards]


def ids(*indexes):
    return [f"shardId-{i:012d}" for i in indexes]


class ListShardsTests(KinesisTestCase):

    def test_list_shards_response_shape(self):
        name = self.create_stream("lsshape", shard_count=2)
        body = raw_call("ListShards", {"StreamName": name}).json()
        self.assertEqual(set(body), {"Shards"}, "no NextToken on the last page")
        self.assertEqual(shard_ids(body["Shards"]), ids(0, 1))
        self.assertEqual(body["Shards"], raw_call("DescribeStream", {"StreamName": name}).json()["StreamDescription"]["Shards"])

    def test_max_results_and_next_token_paging(self):
        name = self.create_stream("lspage", shard_count=5)
        first = self.kinesis.list_shards(StreamName=name, MaxResults=2)
        self.assertEqual(shard_ids(first["Shards"]), ids(0, 1))
        second = self.kinesis.list_shards(NextToken=first["NextToken"], MaxResults=2)
        self.assertEqual(shard_ids(second["Shards"]), ids(2, 3))
        third = self.kinesis.list_shards(NextToken=second["NextToken"], MaxResults=2)
        self.assertEqual(shard_ids(third["Shards"]), ids(4))
        self.assertNotIn("NextToken", third)
        # A token can be used again, and without MaxResults it lists the rest.
        self.assertEqual(shard_ids(self.kinesis.list_shards(NextToken=first["NextToken"])["Shards"]), ids(2, 3, 4))

    def test_exclusive_start_shard_id(self):
        name = self.create_stream("lsexcl", shard_count=5)
        listed = self.kinesis.list_shards(StreamName=name, ExclusiveStartShardId="shardId-000000000002")
        self.assertEqual(shard_ids(listed["Shards"]), ids(3, 4))
        paged = self.kinesis.list_shards(StreamName=name, ExclusiveStartShardId="shardId-000000000000", MaxResults=1)
        self.assertEqual(shard_ids(paged["Shards"]), ids(1))
        self.assertIn("NextToken", paged)
        self.assertEqual(self.kinesis.list_shards(StreamName=name, ExclusiveStartShardId="shardId-000000000004")["Shards"], [])

    def test_every_shard_filter_type(self):
        name = self.create_stream("lsfilter", shard_count=3)
        created = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
        now = datetime.datetime.now(datetime.timezone.utc)
        filters = {
            "AFTER_SHARD_ID": ({"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000000"}, ids(1, 2)),
            "AT_TRIM_HORIZON": ({"Type": "AT_TRIM_HORIZON"}, ids(0, 1, 2)),
            "FROM_TRIM_HORIZON": ({"Type": "FROM_TRIM_HORIZON"}, ids(0, 1, 2)),
            "AT_LATEST": ({"Type": "AT_LATEST"}, ids(0, 1, 2)),
            "AT_TIMESTAMP": ({"Type": "AT_TIMESTAMP", "Timestamp": now}, ids(0, 1, 2)),
            "FROM_TIMESTAMP": ({"Type": "FROM_TIMESTAMP", "Timestamp": created}, ids(0, 1, 2)),
        }
        for kind, (shard_filter, expected) in filters.items():
            with self.subTest(kind):
                listed = self.kinesis.list_shards(StreamName=name, ShardFilter=shard_filter)
                self.assertEqual(shard_ids(listed["Shards"]), expected, kind)

    def test_shard_filter_pages_keep_the_filter(self):
        name = self.create_stream("lsfilterpage", shard_count=4)
        first = self.kinesis.list_shards(StreamName=name, MaxResults=1,
                                         ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": "shardId-000000000001"})
        self.assertEqual(shard_ids(first["Shards"]), ids(2))
        rest = self.kinesis.list_shards(NextToken=first["NextToken"])
        self.assertEqual(shard_ids(rest["Shards"]), ids(3))

    def test_shard_filter_missing_its_argument(self):
        name = self.create_stream("lsfilterbad")
        self.assert_client_error("InvalidArgumentException", None, self.kinesis.list_shards, StreamName=name,
                                 ShardFilter={"Type": "AFTER_SHARD_ID"})
        for kind in ("AT_TIMESTAMP", "FROM_TIMESTAMP"):
            self.assert_client_error("InvalidArgumentException", None, self.kinesis.list_shards, StreamName=name,
                                     ShardFilter={"Type": kind})

    def test_shard_filter_type_enum(self):
        name = self.create_stream("lsfilterenum")
        response = raw_call("ListShards", {"StreamName": name, "ShardFilter": {"Type": "SIDEWAYS"}})
        self.assertEqual(response.status, 400)
        self.assertEqual(response.json()["__type"], "ValidationException")
        self.assertIn("Member must satisfy enum value set: [AFTER_SHARD_ID, AT_TRIM_HORIZON, FROM_TRIM_HORIZON, "
                      "AT_LATEST, AT_TIMESTAMP, FROM_TIMESTAMP]", response.json()["message"])

    def test_next_token_with_other_parameters(self):
        name = self.create_stream("lstoken", shard_count=3)
        token = self.kinesis.list_shards(StreamName=name, MaxResults=1)["NextToken"]
        k = self.kinesis
        cases = [
            ({"StreamName": name}, "NextToken and StreamName cannot be provided together."),
            ({"StreamARN": stream_arn(name)}, "NextToken and StreamARN cannot be provided together."),
            ({"ExclusiveStartShardId": "shardId-000000000000"}, "NextToken and ExclusiveStartShardId cannot be provided together."),
            ({"ShardFilter": {"Type": "AT_LATEST"}}, "NextToken and ShardFilter cannot be provided together."),
        ]
        for extra, message in cases:
            with self.subTest(message):
                self.assert_client_error("InvalidArgumentException", message, k.list_shards, NextToken=token, **extra)

    def test_neither_stream_name_nor_next_token(self):
        self.assert_client_error("InvalidArgumentException", "Either NextToken or StreamName should be provided.",
                                 self.kinesis.list_shards)

    def test_empty_next_token_fails_validation(self):
        response = raw_call("ListShards", {"NextToken": ""})
        self.assert_raw_error(response, 400, "ValidationException",
                              "1 validation error detected: Value '' at 'nextToken' failed to satisfy constraint: "
                              "Member must have length greater than or equal to 1")

    def test_garbage_next_token_is_invalid_argument(self):
        self.assert_client_error("InvalidArgumentException", None, self.kinesis.list_shards, NextToken="bm90IGEgdG9rZW4=")


class StreamTagTests(KinesisTestCase):

    def test_add_list_remove_tags(self):
        name = self.create_stream("tags")
        k = self.kinesis
        response = raw_call("AddTagsToStream", {"StreamName": name, "Tags": {"b": "2", "a": "1", "d": "4", "c": "3", "e": ""}})
        self.assertEqual((response.status, response.body), (200, b""))
        listed = k.list_tags_for_stream(StreamName=name)
        self.assertEqual(listed["Tags"], [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}, {"Key": "c", "Value": "3"},
                                          {"Key": "d", "Value": "4"}, {"Key": "e", "Value": ""}])
        self.assertFalse(listed["HasMoreTags"])

        k.add_tags_to_stream(StreamName=name, Tags={"a": "one", "f": "6"})
        self.assertEqual(k.list_tags_for_stream(StreamName=name)["Tags"][0], {"Key": "a", "Value": "one"})

        response = raw_call("RemoveTagsFromStream", {"StreamName": name, "TagKeys": ["b", "no-such-key", "f"]})
        self.assertEqual((response.status, response.body), (200, b""))
        self.assertEqual([t["Key"] for t in k.list_tags_for_stream(StreamName=name)["Tags"]], ["a", "c", "d", "e"])

    def test_list_tags_exclusive_start_tag_key_and_limit(self):
        name = self.create_stream("tagpage")
        self.kinesis.add_tags_to_stream(StreamName=name, Tags={f"key{i}": f"v{i}" for i in range(6)})
        page = self.kinesis.list_tags_for_stream(StreamName=name, ExclusiveStartTagKey="key1", Limit=2)
        self.assertEqual([t["Key"] for t in page["Tags"]], ["key2", "key3"])
        self.assertTrue(page["HasMoreTags"])
        page = self.kinesis.list_tags_for_stream(StreamName=name, ExclusiveStartTagKey="key3", Limit=2)
        self.assertEqual([t["Key"] for t in page["Tags"]], ["key4", "key5"])
        self.assertFalse(page["HasMoreTags"])
        # The start key need not exist.
        page = self.kinesis.list_tags_for_stream(StreamName=name, ExclusiveStartTagKey="key35")
        self.assertEqual([t["Key"] for t in page["Tags"]], ["key4", "key5"])
        self.assertFalse(page["HasMoreTags"])
        page = self.kinesis.list_tags_for_stream(StreamName=name, Limit=1)
        self.assertEqual((page["Tags"], page["HasMoreTags"]), ([{"Key": "key0", "Value": "v0"}], True))

    def test_tags_with_every_allowed_character(self):
        name = self.create_stream("tagchars")
        tags = {"Unicode ünï 9": "_ . / = + - @", "a:b": "c:d"}
        self.kinesis.add_tags_to_stream(StreamName=name, Tags=tags)
        self.assertEqual({t["Key"]: t["Value"] for t in self.kinesis.list_tags_for_stream(StreamName=name)["Tags"]}, tags)

    def test_invalid_tag_characters(self):
        name = self.create_stream("tagbad")
        k = self.kinesis
        for tags in ({"semi;colon": "v"}, {"k": "comma,value"}, {"tab\tkey": "v"}):
            with self.subTest(tags):
                self.assert_client_error("InvalidArgumentException", ILLEGAL_TAG_CHARACTERS, k.add_tags_to_stream,
                                         StreamName=name, Tags=tags)
        self.assert_client_error("InvalidArgumentException", ILLEGAL_TAG_CHARACTERS, k.remove_tags_from_stream,
                                 StreamName=name, TagKeys=["semi;colon"])

    def test_percent_in_tags(self):
        name = self.create_stream("tagpercent")
        allowed = "The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."
        self.assert_client_error(
            "InvalidArgumentException",
            f"Failed to add tags to stream {name} under account {ACCOUNT} because some tags contained illegal characters. {allowed}",
            self.kinesis.add_tags_to_stream, StreamName=name, Tags={"100%": "v"})
        self.assert_client_error(
            "InvalidArgumentException",
            f"Failed to remove tags from stream {name} under account {ACCOUNT} because some tags contained illegal characters. {allowed}",
            self.kinesis.remove_tags_from_stream, StreamName=name, TagKeys=["100%"])

    def test_more_than_50_tags(self):
        name = self.create_stream("tagmany")
        self.kinesis.add_tags_to_stream(StreamName=name, Tags={f"k{i:02d}": "v" for i in range(30)})
        self.kinesis.add_tags_to_stream(StreamName=name, Tags={f"k{i:02d}": "w" for i in range(20, 50)})
        self.assertEqual(len(self.kinesis.list_tags_for_stream(StreamName=name)["Tags"]), 50)
        self.assert_client_error(
            "InvalidArgumentException",
            f"Failed to add tags to stream {name} under account {ACCOUNT} because a given stream cannot have more than 50 tags associated with it.",
            self.kinesis.add_tags_to_stream, StreamName=name, Tags={"one-too-many": "v"})

    def test_tag_validation_messages(self):
        name = self.create_stream("tagval")
        self.assert_raw_error(raw_call("AddTagsToStream", {"StreamName": name, "Tags": {}}), 400, "ValidationException",
                              "1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: "
                              "Member must have length greater than or equal to 1")
        self.assert_raw_error(raw_call("RemoveTagsFromStream", {"StreamName": name, "TagKeys": []}), 400, "ValidationException",
                              "1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: "
                              "Member must have length greater than or equal to 1")
        long_key = "k" * 129
        self.assert_raw_error(raw_call("RemoveTagsFromStream", {"StreamName": name, "TagKeys": ["a", long_key, "b"]}), 400,
                              "ValidationException",
                              f"1 validation error detected: Value '[a, {long_key}, b]' at 'tagKeys' failed to satisfy constraint: "
                              "Member must satisfy constraint: [Member must have length less than or equal to 128, "
                              "Member must have length greater than or equal to 1]")


class ResourceTagTests(KinesisTestCase):
    """TagResource, UntagResource, ListTagsForResource: newer than Debian's boto3 model, so raw requests."""

    def test_tag_untag_list_tags_for_resource(self):
        name = self.create_stream("restags")
        arn = stream_arn(name)
        response = raw_call("TagResource", {"ResourceARN": arn, "Tags": {"owner": "interop", "tier": "gold"}})
        self.assertEqual((response.status, response.body), (200, b""), response)
        listed = raw_call("ListTagsForResource", {"ResourceARN": arn})
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual(listed.json(), {"Tags": [{"Key": "owner", "Value": "interop"}, {"Key": "tier", "Value": "gold"}]})
        # One tag set: the stream API sees resource tags and the other way round.
        self.assertEqual(len(self.kinesis.list_tags_for_stream(StreamName=name)["Tags"]), 2)
        self.kinesis.add_tags_to_stream(StreamName=name, Tags={"added": "by-stream-api"})
        self.assertEqual([t["Key"] for t in raw_call("ListTagsForResource", {"ResourceARN": arn}).json()["Tags"]],
                         ["added", "owner", "tier"])
        response = raw_call("UntagResource", {"ResourceARN": arn, "TagKeys": ["owner", "added"]})
        self.assertEqual((response.status, response.body), (200, b""), response)
        self.assertEqual(self.kinesis.list_tags_for_stream(StreamName=name)["Tags"], [{"Key": "tier", "Value": "gold"}])

    def test_resource_arn_of_missing_stream(self):
        name = unique_name("resmissing")
        for operation, payload in (("ListTagsForResource", {}), ("TagResource", {"Tags": {"a": "b"}}),
                                   ("UntagResource", {"TagKeys": ["a"]})):
            with self.subTest(operation):
                self.assert_raw_error(raw_call(operation, dict(payload, ResourceARN=stream_arn(name))), 400,
                                      "ResourceNotFoundException", self.not_found(name))

    def test_resource_arn_validation(self):
        response = raw_call("ListTagsForResource", {"ResourceARN": "arn:nope"})
        self.assertEqual(response.status, 400)
        body = response.json()
        self.assertEqual(body["__type"], "ValidationException")
        self.assertTrue(body["message"].startswith(
            "1 validation error detected: Value 'arn:nope' at 'resourceARN' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: "), body)

    def test_tag_resource_invalid_characters(self):
        name = self.create_stream("restagbad")
        response = raw_call("TagResource", {"ResourceARN": stream_arn(name), "Tags": {"semi;colon": "v"}})
        self.assertEqual(response.status, 400)
        self.assertEqual(response.json()["__type"], "InvalidArgumentException")
