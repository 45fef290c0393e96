"""DynamoDB through boto3's `dynamodb` client (issue 19): the subset the KCL's lease management uses, every
operation, condition failures and AWS's error texts, plus raw requests for the wire (the namespaced __type, HTTP 400,
JSON 1.0, the CRC32 header)."""

import json
import zlib

from botocore.exceptions import ClientError

from kinesis_support import ACCOUNT, REGION, KinesisTestCase, raw_request, service_client, unique_name

TARGET = "DynamoDB_20120810."
JSON_10 = "application/x-amz-json-1.0"


def dynamodb():
    return service_client("dynamodb")


def S(value):
    return {"S": value}


def N(value):
    return {"N": str(value)}


class DynamoDbTestCase(KinesisTestCase):

    def create_lease_table(self, tag="ddb-leases"):
        name = unique_name(tag)
        dynamodb().create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "leaseKey", "AttributeType": "S"},
                                  {"AttributeName": "leaseOwner", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "leaseKey", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[{"IndexName": "LeaseOwnerToLeaseKeyIndex",
                                     "KeySchema": [{"AttributeName": "leaseOwner", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "KEYS_ONLY"}}])
        self.addCleanup(self.drop, name)
        return name

    @staticmethod
    def drop(name):
        try:
            dynamodb().delete_table(TableName=name)
        except ClientError:
            pass

    def assert_error(self, code, message, function, **kwargs):
        with self.assertRaises(ClientError) as caught:
            function(**kwargs)
        error = caught.exception.response["Error"]
        self.assertEqual(error["Code"], code, caught.exception.response)
        if message is not None:
            self.assertEqual(error["Message"], message)
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        return caught.exception.response


class TableTests(DynamoDbTestCase):

    def test_create_describe_list_update_backups_and_delete(self):
        name = self.create_lease_table()
        table = dynamodb().describe_table(TableName=name)["Table"]
        self.assertEqual(table["TableStatus"], "ACTIVE")
        self.assertEqual(table["TableArn"], f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}")
        self.assertEqual(table["KeySchema"], [{"AttributeName": "leaseKey", "KeyType": "HASH"}])
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(table["ItemCount"], 0)
        [index] = table["GlobalSecondaryIndexes"]
        self.assertEqual((index["IndexName"], index["IndexStatus"], index["Projection"]), ("LeaseOwnerToLeaseKeyIndex", "ACTIVE", {"ProjectionType": "KEYS_ONLY"}))
        self.assertIn(name, dynamodb().list_tables()["TableNames"])
        self.assert_error("ResourceInUseException", f"Table already exists: {name}", dynamodb().create_table, TableName=name,
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")

        updated = dynamodb().update_table(TableName=name, BillingMode="PROVISIONED",
                                          ProvisionedThroughput={"ReadCapacityUnits": 4, "WriteCapacityUnits": 2},
                                          GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": "LeaseOwnerToLeaseKeyIndex",
                                                                                   "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}])["TableDescription"]
        self.assertEqual((updated["ProvisionedThroughput"]["ReadCapacityUnits"], updated["ProvisionedThroughput"]["WriteCapacityUnits"]), (4, 2))

        backups = dynamodb().update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        self.assertEqual(backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"], "ENABLED")
        self.assert_error("TableNotFoundException", f"Table not found: {name}-none", dynamodb().update_continuous_backups,
                          TableName=name + "-none", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})

        self.assertEqual(dynamodb().delete_table(TableName=name)["TableDescription"]["TableStatus"], "DELETING")
        self.assert_error("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found", dynamodb().describe_table, TableName=name)
        self.assertNotIn(name, dynamodb().list_tables()["TableNames"])

    def test_a_table_with_a_range_key_and_an_index_added_later(self):
        name = unique_name("ddb-events")
        dynamodb().create_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "seq", "AttributeType": "N"}],
                                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "seq", "KeyType": "RANGE"}])
        self.addCleanup(self.drop, name)
        dynamodb().update_table(TableName=name, AttributeDefinitions=[{"AttributeName": "owner", "AttributeType": "S"}],
                                GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "byOwner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                                                                         "Projection": {"ProjectionType": "ALL"},
                                                                         "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}])
        for seq in (3, 20, 1):
            dynamodb().put_item(TableName=name, Item={"id": S("a"), "seq": N(seq), "owner": S("w")})
        forward = dynamodb().query(TableName=name, KeyConditionExpression="id = :id AND seq > :zero",
                                   ExpressionAttributeValues={":id": S("a"), ":zero": N(0)})
        self.assertEqual([i["seq"]["N"] for i in forward["Items"]], ["1", "3", "20"])
        backward = dynamodb().query(TableName=name, KeyConditionExpression="id = :id", ScanIndexForward=False, Limit=2,
                                    ExpressionAttributeValues={":id": S("a")})
        self.assertEqual([i["seq"]["N"] for i in backward["Items"]], ["20", "3"])
        self.assertEqual(backward["LastEvaluatedKey"], {"id": S("a"), "seq": N(3)})
        by_owner = dynamodb().query(TableName=name, IndexName="byOwner", KeyConditionExpression="#o = :w",
                                    ExpressionAttributeNames={"#o": "owner"}, ExpressionAttributeValues={":w": S("w")}, Select="COUNT")
        self.assertEqual(by_owner["Count"], 3)
        self.assertNotIn("Items", by_owner)

    def test_bad_table_definitions_get_AWS_messages(self):
        name = unique_name("ddb-bad")
        self.assert_error("ValidationException",
                          "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [b], AttributeDefinitions: [a]",
                          dynamodb().create_table, TableName=name, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}], KeySchema=[{"AttributeName": "b", "KeyType": "HASH"}])
        self.assert_error("ValidationException",
                          "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
                          dynamodb().create_table, TableName=name, BillingMode="PAY_PER_REQUEST",
                          ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                          AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}], KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}])


class ItemTests(DynamoDbTestCase):

    def test_the_kcl_lease_cycle_with_legacy_parameters(self):
        table = self.create_lease_table()
        key = {"leaseKey": S("shardId-000000000000")}
        dynamodb().put_item(TableName=table, Item={**key, "leaseCounter": N(0), "checkpoint": S("TRIM_HORIZON")},
                            Expected={"leaseKey": {"Exists": False}})
        self.assert_error("ConditionalCheckFailedException", "The conditional request failed", dynamodb().put_item,
                          TableName=table, Item=key, Expected={"leaseKey": {"Exists": False}})
        taken = dynamodb().update_item(TableName=table, Key=key, Expected={"leaseCounter": {"Value": N(0)}},
                                       AttributeUpdates={"leaseOwner": {"Value": S("worker-a"), "Action": "PUT"},
                                                         "leaseCounter": {"Value": N(1), "Action": "PUT"},
                                                         "ownerSwitchesSinceCheckpoint": {"Value": N(1), "Action": "ADD"}},
                                       ReturnValues="ALL_NEW")["Attributes"]
        self.assertEqual((taken["leaseOwner"], taken["ownerSwitchesSinceCheckpoint"]), (S("worker-a"), N(1)))
        self.assert_error("ConditionalCheckFailedException", "The conditional request failed", dynamodb().update_item,
                          TableName=table, Key=key, ConditionExpression="leaseCounter = :c", UpdateExpression="SET leaseCounter = :n",
                          ExpressionAttributeValues={":c": N(0), ":n": N(9)})
        dynamodb().update_item(TableName=table, Key=key, Expected={"leaseOwner": {"Value": S("worker-a")}},
                               AttributeUpdates={"leaseOwner": {"Action": "DELETE"}})
        item = dynamodb().get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        self.assertNotIn("leaseOwner", item)
        old = dynamodb().delete_item(TableName=table, Key=key, ConditionExpression="attribute_not_exists(leaseOwner)", ReturnValues="ALL_OLD")
        self.assertEqual(old["Attributes"]["checkpoint"], S("TRIM_HORIZON"))
        self.assertNotIn("Item", dynamodb().get_item(TableName=table, Key=key))

    def test_update_expressions_and_projections(self):
        table = self.create_lease_table()
        key = {"leaseKey": S("k")}
        new = dynamodb().update_item(TableName=table, Key=key, ReturnValues="ALL_NEW",
                                     UpdateExpression="SET #c = if_not_exists(#c, :zero) + :one, parents = :p, info = :m ADD visits :one",
                                     ExpressionAttributeNames={"#c": "counter"},
                                     ExpressionAttributeValues={":zero": N(0), ":one": N(1), ":p": {"SS": ["a", "b"]}, ":m": {"M": {"l": {"L": [S("x"), N("1.50")]}}}})["Attributes"]
        self.assertEqual((new["counter"], new["visits"], new["info"]["M"]["l"]["L"][1]), (N(1), N(1), N("1.5")))
        dynamodb().update_item(TableName=table, Key=key, UpdateExpression="REMOVE info.l[0] DELETE parents :a",
                               ExpressionAttributeValues={":a": {"SS": ["a"]}})
        item = dynamodb().get_item(TableName=table, Key=key, ProjectionExpression="parents, info.l[0]")["Item"]
        self.assertEqual(item, {"parents": {"SS": ["b"]}, "info": {"M": {"l": {"L": [N("1.5")]}}}})
        self.assert_error("ValidationException", "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status",
                          dynamodb().update_item, TableName=table, Key=key, UpdateExpression="SET status = :v", ExpressionAttributeValues={":v": S("x")})
        self.assert_error("ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:extra}",
                          dynamodb().update_item, TableName=table, Key=key, UpdateExpression="SET a = :v", ExpressionAttributeValues={":v": S("x"), ":extra": S("y")})
        self.assert_error("ValidationException", "The provided key element does not match the schema",
                          dynamodb().get_item, TableName=table, Key={"leaseKey": N(1)})
        self.assert_error("ValidationException", "One or more parameter values were invalid: Cannot update attribute leaseKey. This attribute is part of the key",
                          dynamodb().update_item, TableName=table, Key=key, UpdateExpression="SET leaseKey = :v", ExpressionAttributeValues={":v": S("x")})

    def test_missing_tables(self):
        self.assert_error("ResourceNotFoundException", "Requested resource not found", dynamodb().get_item,
                          TableName=unique_name("ddb-none"), Key={"k": S("x")})
        self.assert_error("ResourceNotFoundException", "Requested resource not found", dynamodb().put_item,
                          TableName=unique_name("ddb-none"), Item={"k": S("x")})


class ReadTests(DynamoDbTestCase):

    def test_query_the_owner_index_and_scan_in_pages_with_a_filter(self):
        table = self.create_lease_table()
        dynamodb().batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"leaseKey": S(f"shardId-{i:012d}"), "leaseOwner": S("even" if i % 2 == 0 else "odd"), "leaseCounter": N(i)}}}
            for i in range(12)]})
        owned = dynamodb().query(TableName=table, IndexName="LeaseOwnerToLeaseKeyIndex", KeyConditionExpression="leaseOwner = :o",
                                 ExpressionAttributeValues={":o": S("odd")})
        self.assertEqual(owned["Count"], 6)
        self.assertTrue(all(set(i) == {"leaseKey", "leaseOwner"} for i in owned["Items"]))
        seen, start, pages = [], None, 0
        while True:
            kwargs = {"ExclusiveStartKey": start} if start else {}
            page = dynamodb().scan(TableName=table, Limit=5, FilterExpression="leaseCounter < :six",
                                   ExpressionAttributeValues={":six": N(6)}, **kwargs)
            seen += [i["leaseKey"]["S"] for i in page["Items"]]
            pages += 1
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        self.assertEqual(sorted(seen), [f"shardId-{i:012d}" for i in range(6)])
        self.assertEqual(pages, 3)
        legacy = dynamodb().scan(TableName=table, ScanFilter={"leaseOwner": {"ComparisonOperator": "EQ", "AttributeValueList": [S("even")]}})
        self.assertEqual(legacy["Count"], 6)
        self.assertEqual(legacy["ScannedCount"], 12)
        self.assertEqual(dynamodb().describe_table(TableName=table)["Table"]["ItemCount"], 12)

    def test_batch_get_and_write(self):
        table = self.create_lease_table()
        dynamodb().batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"leaseKey": S(k)}}} for k in ("a", "b", "c")]})
        dynamodb().batch_write_item(RequestItems={table: [{"DeleteRequest": {"Key": {"leaseKey": S("b")}}}]})
        got = dynamodb().batch_get_item(RequestItems={table: {"Keys": [{"leaseKey": S(k)} for k in ("a", "b", "c")]}})
        self.assertEqual(sorted(i["leaseKey"]["S"] for i in got["Responses"][table]), ["a", "c"])
        self.assertEqual(got["UnprocessedKeys"], {})
        self.assert_error("ValidationException", "Provided list of item keys contains duplicates", dynamodb().batch_get_item,
                          RequestItems={table: {"Keys": [{"leaseKey": S("a")}, {"leaseKey": S("a")}]}})


class TransactionTests(DynamoDbTestCase):

    def test_transact_write_items_all_or_nothing(self):
        table = self.create_lease_table()
        dynamodb().transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"leaseKey": S("a"), "n": N(1)}, "ConditionExpression": "attribute_not_exists(leaseKey)"}},
            {"Put": {"TableName": table, "Item": {"leaseKey": S("b"), "n": N(1)}}}])
        response = self.assert_error(
            "TransactionCanceledException", "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]",
            dynamodb().transact_write_items, TransactItems=[
                {"Update": {"TableName": table, "Key": {"leaseKey": S("a")}, "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": N(1)}}},
                {"ConditionCheck": {"TableName": table, "Key": {"leaseKey": S("b")}, "ConditionExpression": "n = :two",
                                    "ExpressionAttributeValues": {":two": N(2)}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}])
        reasons = response["CancellationReasons"]
        self.assertEqual([r["Code"] for r in reasons], ["None", "ConditionalCheckFailed"])
        self.assertEqual(reasons[1]["Item"]["n"], N(1))
        self.assertEqual(dynamodb().get_item(TableName=table, Key={"leaseKey": S("a")})["Item"]["n"], N(1))
        self.assert_error("ValidationException", "Transaction request cannot include multiple operations on one item",
                          dynamodb().transact_write_items, TransactItems=[
                              {"Put": {"TableName": table, "Item": {"leaseKey": S("a")}}},
                              {"Delete": {"TableName": table, "Key": {"leaseKey": S("a")}}}])


class WireTests(DynamoDbTestCase):

    def test_errors_carry_the_namespaced_type_in_json_10_with_a_crc32(self):
        body = json.dumps({"TableName": unique_name("ddb-none"), "Key": {"k": {"S": "x"}}})
        response = raw_request(body, target=TARGET + "GetItem", content_type=JSON_10)
        self.assertEqual(response.status, 400)
        self.assertEqual(response.headers["content-type"], JSON_10)
        self.assertEqual(response.json(), {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                                           "message": "Requested resource not found"})
        self.assertEqual(int(response.headers["x-amz-crc32"]), zlib.crc32(response.body))
        missing = raw_request("{}", target=TARGET + "DescribeTable", content_type=JSON_10)
        self.assertEqual(missing.json()["__type"], "com.amazon.coral.validate#ValidationException")
        self.assertEqual(missing.json()["message"], "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
        unknown = raw_request("{}", target=TARGET + "RestoreTableFromBackup", content_type=JSON_10)
        self.assertEqual((unknown.status, unknown.json()["__type"]), (400, "com.amazon.coral.service#UnknownOperationException"))
        unsigned = raw_request("{}", target=TARGET + "ListTables", content_type=JSON_10, auth=False)
        self.assertEqual(unsigned.json()["__type"], "com.amazon.coral.service#MissingAuthenticationTokenException")
