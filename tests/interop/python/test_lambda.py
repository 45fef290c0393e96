"""Lambda's API through boto3's `lambda` client (issue 20, first increment): functions whose code is an HTTP endpoint
(PackageType Image, Code.ImageUri an http:// URL: docs/compatibility.md, "Lambda"), created, read, listed page by
page, invoked (RequestResponse, Event, DryRun; a function error; a timeout) and deleted, with Lambda's errors. The
function's endpoint is a small HTTP server this file starts and stops."""

import base64
import datetime
import http.server
import json
import threading
import time
import traceback
import urllib.request

from botocore.exceptions import ClientError

import kinesis_support
from kinesis_support import ACCOUNT, REGION, KinesisTestCase, cloudwatch, raw_request, service_client, unique_name, wait_active

ROLE = f"arn:aws:iam::{ACCOUNT}:role/runnel-test"


def lam():
    return service_client("lambda")


class FunctionEndpoint:
    """A function's code as an HTTP endpoint: echoes the event; {"fail": ...} answers 500 with Lambda's error object;
    {"sleep": s} waits s seconds first. Records each call's headers."""

    def __init__(self, fail_first=0, respond=None):
        calls = self.calls = []
        failures = [fail_first]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                event = json.loads(body)
                calls.append({"event": event, "headers": dict(self.headers)})
                if isinstance(event, dict) and "sleep" in event:
                    time.sleep(event["sleep"])
                if respond is not None:
                    status, answer = respond(event, calls)
                elif failures[0] > 0:
                    failures[0] -= 1
                    answer, status = {"errorMessage": "failing on purpose", "errorType": "Error"}, 500
                elif isinstance(event, dict) and "fail" in event:
                    answer, status = {"errorMessage": event["fail"], "errorType": "Error"}, 500
                else:
                    answer, status = {"echo": event, "requestId": self.headers.get("Lambda-Runtime-Aws-Request-Id")}, 200
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the invoker gave up (a timeout)

            def log_message(self, *args):
                pass

        connections, errors = self.connections, self.errors = [0], []

        class Server(http.server.ThreadingHTTPServer):
            def verify_request(self, request, client_address):
                connections[0] += 1  # every connection accepted, whether or not a call is made on it
                return True

            def handle_error(self, request, client_address):
                errors.append(traceback.format_exc(limit=3))

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/invoke"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class LambdaBase(KinesisTestCase):
    """A function endpoint per test, and the helpers; no tests of its own."""

    def setUp(self):
        super().setUp()
        self.endpoint = FunctionEndpoint()
        self.addCleanup(self.endpoint.close)

    def create(self, tag="fn", **extra):
        name = unique_name(tag)
        arguments = dict(FunctionName=name, Role=ROLE, PackageType="Image", Code={"ImageUri": self.endpoint.url})
        arguments.update(extra)
        answer = lam().create_function(**arguments)
        self.addCleanup(self.drop, name)
        return name, answer

    @staticmethod
    def drop(name):
        try:
            lam().delete_function(FunctionName=name)
        except ClientError:
            pass

    def data_of(self, record):
        return base64.b64decode(record["kinesis"]["data"]).decode()

    def given(self, endpoint):
        return [self.data_of(r) for call in list(endpoint.calls) for r in call["event"].get("Records", [])]

    def wait_until(self, condition, what, timeout=30):
        deadline = time.time() + timeout
        while not condition():
            if time.time() > deadline:
                self.fail(f"timed out waiting until {what}")
            time.sleep(0.1)

    def assert_error(self, code, status, function, message=None, **kwargs):
        with self.assertRaises(ClientError) as caught:
            function(**kwargs)
        error = caught.exception.response["Error"]
        self.assertEqual(error["Code"], code, caught.exception.response)
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        if message is not None:
            self.assertEqual(error["Message"], message)
        return error


class LambdaTestCase(LambdaBase):

    def test_create_get_list_and_delete_a_function(self):
        name, created = self.create(Description="echo", Timeout=5, MemorySize=256, Environment={"Variables": {"MODE": "test"}})
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        self.assertEqual(created["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual((created["FunctionName"], created["FunctionArn"], created["Role"]), (name, arn, ROLE))
        self.assertEqual((created["Timeout"], created["MemorySize"], created["Description"]), (5, 256, "echo"))
        self.assertEqual((created["PackageType"], created["State"], created["Version"]), ("Image", "Active", "$LATEST"))
        self.assertEqual(created["Environment"], {"Variables": {"MODE": "test"}})
        self.assertRegex(created["LastModified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")

        got = lam().get_function(FunctionName=name)
        self.assertEqual(got["Configuration"]["FunctionArn"], arn)
        self.assertEqual(got["Code"], {"RepositoryType": "ECR", "ImageUri": self.endpoint.url, "ResolvedImageUri": self.endpoint.url})
        self.assertEqual(lam().get_function(FunctionName=arn)["Configuration"]["RevisionId"], created["RevisionId"])
        self.assertEqual(lam().get_function_configuration(FunctionName=name)["FunctionName"], name)

        names = [f["FunctionName"] for page in lam().get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1})
                 for f in page["Functions"]]
        self.assertIn(name, names)
        self.assertEqual(names, sorted(names))

        self.assertEqual(lam().delete_function(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assert_error("ResourceNotFoundException", 404, lam().get_function, f"Function not found: {arn}", FunctionName=name)
        self.assert_error("ResourceNotFoundException", 404, lam().delete_function, FunctionName=name)

    def test_invoke_request_response_event_and_dry_run(self):
        name, _ = self.create()
        answer = lam().invoke(FunctionName=name, Payload=json.dumps({"n": 1}))
        self.assertEqual(answer["StatusCode"], 200)
        self.assertEqual(answer["ExecutedVersion"], "$LATEST")
        self.assertNotIn("FunctionError", answer)
        result = json.loads(answer["Payload"].read())
        self.assertEqual(result["echo"], {"n": 1})
        call = self.endpoint.calls[-1]
        self.assertEqual(call["headers"]["Lambda-Runtime-Invoked-Function-Arn"], f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
        self.assertEqual(result["requestId"], call["headers"]["Lambda-Runtime-Aws-Request-Id"])

        self.assertEqual(lam().invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"], 204)
        before = len(self.endpoint.calls)
        self.assertEqual(lam().invoke(FunctionName=name, InvocationType="Event", Payload=b'{"async": true}')["StatusCode"], 202)
        deadline = time.time() + 10
        while len(self.endpoint.calls) == before and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.endpoint.calls[-1]["event"], {"async": True})

    def test_a_function_error_and_a_timeout_are_the_functions_not_the_calls(self):
        name, _ = self.create(Timeout=1)
        failed = lam().invoke(FunctionName=name, Payload=json.dumps({"fail": "boom"}))
        self.assertEqual((failed["StatusCode"], failed["FunctionError"]), (200, "Unhandled"))
        self.assertEqual(json.loads(failed["Payload"].read()), {"errorMessage": "boom", "errorType": "Error"})

        timed_out = lam().invoke(FunctionName=name, Payload=json.dumps({"sleep": 3}))
        self.assertEqual(timed_out["FunctionError"], "Unhandled")
        error = json.loads(timed_out["Payload"].read())
        self.assertEqual(error["errorType"], "Sandbox.Timedout")
        self.assertIn("Task timed out after 1.00 seconds", error["errorMessage"])

    def test_errors(self):
        name, _ = self.create()
        self.assert_error("ResourceConflictException", 409, lam().create_function, f"Function already exist: {name}",
                          FunctionName=name, Role=ROLE, PackageType="Image", Code={"ImageUri": self.endpoint.url})
        self.assert_error("InvalidParameterValueException", 400, lam().create_function,
                          FunctionName=unique_name("zip"), Role=ROLE, Runtime="nodejs18.x", Handler="index.handler", Code={"ZipFile": b"PK"})
        self.assert_error("ValidationException", 400, lam().create_function,
                          FunctionName=unique_name("role"), Role="not-a-role", PackageType="Image", Code={"ImageUri": self.endpoint.url})
        self.assert_error("InvalidParameterValueException", 400, lam().create_function,
                          FunctionName=unique_name("timeout"), Role=ROLE, PackageType="Image", Code={"ImageUri": self.endpoint.url}, Timeout=901)
        self.assert_error("InvalidRequestContentException", 400, lam().invoke, FunctionName=name, Payload=b"not json")
        self.assert_error("ResourceNotFoundException", 404, lam().invoke, FunctionName=unique_name("missing"), Payload=b"{}")

    def test_an_unknown_path_is_lambdas_unknown_operation(self):
        response = raw_request(method="GET", path="/2015-03-31/nothing-here", content_type=None)
        self.assertEqual(response.status, 404)
        self.assertEqual(response.headers["x-amzn-errortype"], "UnknownOperationException")


class EventSourceMappingTestCase(LambdaBase):
    """The mappings' API (issue 20, first increment: stored and described; their polling comes next)."""

    def test_create_get_list_update_and_delete_a_mapping(self):
        stream = self.create_stream("esm", 2)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        name, function = self.create()
        created = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON",
                                                    BatchSize=50, ParallelizationFactor=2, FunctionResponseTypes=["ReportBatchItemFailures"],
                                                    DestinationConfig={"OnFailure": {"Destination": stream_arn}})
        uuid = created["UUID"]
        self.addCleanup(self.drop_mapping, uuid)
        self.assertEqual(created["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual((created["State"], created["FunctionArn"], created["EventSourceArn"]), ("Creating", function["FunctionArn"], stream_arn))
        self.assertEqual((created["BatchSize"], created["ParallelizationFactor"], created["MaximumRetryAttempts"]), (50, 2, -1))
        self.assertEqual(created["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(created["DestinationConfig"], {"OnFailure": {"Destination": stream_arn}})

        got = lam().get_event_source_mapping(UUID=uuid)
        self.assertEqual((got["State"], got["StartingPosition"]), ("Enabled", "TRIM_HORIZON"))
        listed = lam().list_event_source_mappings(EventSourceArn=stream_arn)["EventSourceMappings"]
        self.assertEqual([m["UUID"] for m in listed], [uuid])
        self.assertEqual([m["UUID"] for m in lam().list_event_source_mappings(FunctionName=name)["EventSourceMappings"]], [uuid])

        updated = lam().update_event_source_mapping(UUID=uuid, BatchSize=10, Enabled=False)
        self.assertEqual((updated["State"], updated["BatchSize"]), ("Updating", 10))
        self.assertEqual(lam().get_event_source_mapping(UUID=uuid)["State"], "Disabled")

        self.assertEqual(lam().delete_event_source_mapping(UUID=uuid)["State"], "Deleting")
        self.assert_error("ResourceNotFoundException", 404, lam().get_event_source_mapping, "The resource you requested does not exist.", UUID=uuid)

    def test_mapping_errors(self):
        stream = self.create_stream("esm-err", 1)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        name, _ = self.create()
        uuid = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="LATEST")["UUID"]
        self.addCleanup(self.drop_mapping, uuid)
        error = self.assert_error("ResourceConflictException", 409, lam().create_event_source_mapping,
                                  FunctionName=name, EventSourceArn=stream_arn, StartingPosition="LATEST")
        self.assertIn(uuid, error["Message"])
        self.assert_error("InvalidParameterValueException", 400, lam().create_event_source_mapping, f"Stream not found: {stream_arn}-missing",
                          FunctionName=name, EventSourceArn=stream_arn + "-missing", StartingPosition="LATEST")
        self.assert_error("InvalidParameterValueException", 400, lam().create_event_source_mapping,
                          FunctionName=name, EventSourceArn=stream_arn + "-other")  # no StartingPosition, and no such stream
        self.assert_error("ResourceNotFoundException", 404, lam().create_event_source_mapping,
                          FunctionName=unique_name("nofn"), EventSourceArn=stream_arn, StartingPosition="LATEST")
        self.assert_error("ResourceNotFoundException", 404, lam().update_event_source_mapping, UUID="00000000-0000-0000-0000-000000000000", BatchSize=5)

    @staticmethod
    def drop_mapping(uuid):
        try:
            lam().delete_event_source_mapping(UUID=uuid)
        except ClientError:
            pass


class MappingDeliveryTestCase(LambdaBase):
    """Mappings run (issue 20, third increment's start): a stream's records reach the function in batches, as Lambda's
    Kinesis event, in order per shard; a batch the function fails is given again."""

    def wait_for_records(self, count, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            records = [r for call in list(self.endpoint.calls) if isinstance(call["event"], dict) for r in call["event"].get("Records", [])]
            if len(records) >= count:
                return records
            time.sleep(0.1)
        self.fail(f"the function got {len(records)} of {count} records in {timeout} s")

    def test_records_reach_the_function_as_lambdas_kinesis_event(self):
        stream = self.create_stream("esm-run", 2)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        for i in range(25):
            self.kinesis.put_record(StreamName=stream, PartitionKey=f"key-{i % 3}", Data=f"record-{i}".encode())
        name, _ = self.create()
        uuid = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=10)["UUID"]
        self.addCleanup(EventSourceMappingTestCase.drop_mapping, uuid)
        records = self.wait_for_records(25)
        self.assertTrue(all(len(call["event"]["Records"]) <= 10 for call in self.endpoint.calls))
        first = records[0]
        self.assertEqual((first["eventSource"], first["eventVersion"], first["eventName"], first["awsRegion"], first["eventSourceARN"]),
                         ("aws:kinesis", "1.0", "aws:kinesis:record", REGION, stream_arn))
        self.assertEqual(first["invokeIdentityArn"], ROLE)
        self.assertEqual(first["kinesis"]["kinesisSchemaVersion"], "1.0")
        self.assertRegex(first["eventID"], r"^shardId-\d{12}:\d+$")
        self.assertIsInstance(first["kinesis"]["approximateArrivalTimestamp"], float)
        got = [base64.b64decode(r["kinesis"]["data"]).decode() for r in records]
        self.assertEqual(sorted(got, key=lambda s: int(s.split("-")[1])), [f"record-{i}" for i in range(25)])
        for key in ("key-0", "key-1", "key-2"):
            of_key = [int(base64.b64decode(r["kinesis"]["data"]).decode().split("-")[1]) for r in records if r["kinesis"]["partitionKey"] == key]
            self.assertEqual(of_key, sorted(of_key), key)

    def test_a_batch_the_function_fails_is_given_again(self):
        stream = self.create_stream("esm-retry", 1)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        self.kinesis.put_record(StreamName=stream, PartitionKey="k", Data=json.dumps({"fail": "first time"}).encode())
        failing = FunctionEndpoint(fail_first=1)
        self.addCleanup(failing.close)
        name, _ = self.create(Code={"ImageUri": failing.url})
        uuid = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON")["UUID"]
        self.addCleanup(EventSourceMappingTestCase.drop_mapping, uuid)
        deadline = time.time() + 30
        while len(failing.calls) < 2 and time.time() < deadline:
            time.sleep(0.1)
        self.assertGreaterEqual(len(failing.calls), 2)
        self.assertEqual(failing.calls[0]["event"], failing.calls[1]["event"])


class MappingFailureTestCase(LambdaBase):
    """What a mapping does with a batch the function fails (issue 20): partial batch responses, bisection, and the
    record of what it gave up in the on-failure destination (a Kinesis stream of the endpoint, in Runnel's terms)."""

    def mapped(self, tag, endpoint, count, function_timeout=None, **settings):
        stream = self.create_stream(tag, 1)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        self.kinesis.put_records(StreamName=stream, Records=[{"PartitionKey": "k", "Data": f"r{i}".encode()} for i in range(count)])
        self.addCleanup(endpoint.close)
        name, _ = self.create(Code={"ImageUri": endpoint.url}, **({"Timeout": function_timeout} if function_timeout else {}))
        uuid = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", **settings)["UUID"]
        self.addCleanup(EventSourceMappingTestCase.drop_mapping, uuid)
        return stream_arn

    def test_a_partial_batch_response_gives_again_from_the_first_failed_item(self):
        def respond(event, calls):
            records = event["Records"]
            if len(calls) == 1:  # the first batch: r2 fails
                failed = [r["kinesis"]["sequenceNumber"] for r in records if self.data_of(r) == "r2"]
                return 200, {"batchItemFailures": [{"itemIdentifier": s} for s in failed]}
            return 200, {"batchItemFailures": []}
        endpoint = FunctionEndpoint(respond=respond)
        self.mapped("esm-partial", endpoint, 5, FunctionResponseTypes=["ReportBatchItemFailures"])
        self.wait_until(lambda: len(endpoint.calls) >= 2, "the batch was given again")
        self.assertEqual(self.given(endpoint), ["r0", "r1", "r2", "r3", "r4", "r2", "r3", "r4"])

    def test_bisection_isolates_a_bad_record_and_the_rest_is_delivered(self):
        def respond(event, calls):
            bad = any(self.data_of(r) == "r5" for r in event["Records"])
            return (500, {"errorMessage": "poison", "errorType": "Error"}) if bad else (200, {})
        endpoint = FunctionEndpoint(respond=respond)
        failures = self.create_stream("esm-dlq", 1)
        failures_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{failures}"
        # A long function timeout: with no retries, a good record whose call a loaded machine answered late would be
        # given up too.
        stream_arn = self.mapped("esm-bisect", endpoint, 8, function_timeout=60, BisectBatchOnFunctionError=True, MaximumRetryAttempts=0,
                                 DestinationConfig={"OnFailure": {"Destination": failures_arn}})
        delivered = lambda: {d for call in list(endpoint.calls) if call["event"]["Records"] and not any(self.data_of(r) == "r5" for r in call["event"]["Records"])
                             for d in (self.data_of(r) for r in call["event"]["Records"])}

        def given_up():
            answer = self.kinesis.get_records(ShardIterator=self.kinesis.get_shard_iterator(
                StreamName=failures, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
            return [json.loads(r["Data"]) for r in answer["Records"]]
        try:
            self.wait_until(lambda: delivered() >= {f"r{i}" for i in range(8) if i != 5}, "every good record was delivered", timeout=60)
        except AssertionError as e:
            calls = [[self.data_of(r) for r in call["event"]["Records"]] for call in list(endpoint.calls)]
            raise AssertionError(f"{e}; the function was called with {calls} on {endpoint.connections[0]} connections (errors: {endpoint.errors}); "
                                 f"given up: {given_up()}") from None
        deadline = time.time() + 30
        records = []
        while not records and time.time() < deadline:
            records = given_up()
            time.sleep(0.1)
        self.assertEqual(len(records), 1, records)
        failure = records[0]
        self.assertEqual(failure["requestContext"]["condition"], "RetryAttemptsExhausted")
        self.assertEqual(failure["responseContext"]["functionError"], "Unhandled")
        info = failure["KinesisBatchInfo"]
        self.assertEqual((info["batchSize"], info["streamArn"], info["shardId"]), (1, stream_arn, "shardId-000000000000"))
        self.assertEqual(info["startSequenceNumber"], info["endSequenceNumber"])


class MappingSemanticsTestCase(LambdaBase):
    """Lambda's batch semantics beyond retries (issue 20): ParallelizationFactor (batches of one shard at once, one
    partition key's records in order), FilterCriteria (records no filter matches are skipped), TumblingWindowInSeconds
    (state carried between a window's invocations, a final invocation per window), and a reshard under load (every
    record given, parents before children)."""

    def test_parallelization_runs_a_shards_batches_at_once_and_keeps_each_keys_order(self):
        running, most = [0], [0]
        lock = threading.Lock()

        def respond(event, calls):
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.3)
            with lock:
                running[0] -= 1
            return 200, {}
        endpoint = FunctionEndpoint(respond=respond)
        stream = self.create_stream("esm-parallel", 1)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        self.kinesis.put_records(StreamName=stream, Records=[{"PartitionKey": f"key-{i % 8}", "Data": f"key-{i % 8}:{i}".encode()} for i in range(160)])
        self.addCleanup(endpoint.close)
        name, _ = self.create(Code={"ImageUri": endpoint.url})
        uuid = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON",
                                                 BatchSize=10, ParallelizationFactor=4)["UUID"]
        self.addCleanup(EventSourceMappingTestCase.drop_mapping, uuid)
        self.wait_until(lambda: len(self.given(endpoint)) >= 160, "every record was given")
        given = self.given(endpoint)
        self.assertEqual(sorted(given), sorted(f"key-{i % 8}:{i}" for i in range(160)))
        self.assertGreater(most[0], 1, "the shard's batches ran one at a time")
        for key in range(8):
            numbers = [int(d.split(":")[1]) for d in given if d.startswith(f"key-{key}:")]
            self.assertEqual(numbers, sorted(numbers), f"key-{key}'s records out of order")
        self.assertTrue(all(len(call["event"]["Records"]) <= 10 for call in endpoint.calls))

    def test_filter_criteria_skip_records_no_filter_matches(self):
        endpoint = FunctionEndpoint()
        stream = self.create_stream("esm-filter", 1)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        records = [{"PartitionKey": "a", "Data": json.dumps({"kind": "order", "n": i}).encode()} for i in range(5)]
        records += [{"PartitionKey": "a", "Data": json.dumps({"kind": "audit", "n": i}).encode()} for i in range(5)]
        records += [{"PartitionKey": "vip", "Data": b"not json"}, {"PartitionKey": "a", "Data": b"not json either"}]
        self.kinesis.put_records(StreamName=stream, Records=records)
        self.addCleanup(endpoint.close)
        name, _ = self.create(Code={"ImageUri": endpoint.url})
        self.assert_error("InvalidParameterValueException", 400, lam().create_event_source_mapping, "Invalid filter pattern definition.",
                          FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON",
                          FilterCriteria={"Filters": [{"Pattern": '{"data": {"kind": "order"}}'}]})
        uuid = lam().create_event_source_mapping(
            FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON",
            FilterCriteria={"Filters": [{"Pattern": json.dumps({"data": {"kind": ["order"], "n": [{"numeric": [">=", 2]}]}})},
                                        {"Pattern": json.dumps({"partitionKey": [{"prefix": "vi"}]})}]})["UUID"]
        self.addCleanup(EventSourceMappingTestCase.drop_mapping, uuid)
        self.assertEqual(lam().get_event_source_mapping(UUID=uuid)["FilterCriteria"]["Filters"][1]["Pattern"], '{"partitionKey": [{"prefix": "vi"}]}')
        self.wait_until(lambda: len(self.given(endpoint)) >= 4, "the matching records were given")
        time.sleep(1)  # nothing else comes
        self.assertEqual(self.given(endpoint), [json.dumps({"kind": "order", "n": i}) for i in (2, 3, 4)] + ["not json"])

    def test_a_tumbling_window_carries_state_and_ends_with_a_final_invocation(self):
        def respond(event, calls):
            state = dict(event["state"])
            if not event["isFinalInvokeForWindow"]:
                state["count"] = state.get("count", 0) + len(event["Records"])
            return 200, {"state": state}
        endpoint = FunctionEndpoint(respond=respond)
        stream = self.create_stream("esm-window", 1)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        self.addCleanup(endpoint.close)
        name, _ = self.create(Code={"ImageUri": endpoint.url})
        uuid = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON",
                                                 BatchSize=3, TumblingWindowInSeconds=2)["UUID"]
        self.addCleanup(EventSourceMappingTestCase.drop_mapping, uuid)
        for i in range(10):
            self.kinesis.put_record(StreamName=stream, PartitionKey="k", Data=f"r{i}".encode())
        finals = lambda: [call["event"] for call in list(endpoint.calls) if call["event"]["isFinalInvokeForWindow"]]
        self.wait_until(lambda: sum(f["state"].get("count", 0) for f in finals()) >= 10, "the windows holding all 10 records closed", timeout=20)
        events = [call["event"] for call in list(endpoint.calls)]
        first = events[0]
        self.assertEqual((first["shardId"], first["eventSourceARN"], first["state"], first["isWindowTerminatedEarly"]),
                         ("shardId-000000000000", stream_arn, {}, False))
        for event in events:
            start, end = (datetime.datetime.strptime(event["window"][b], "%Y-%m-%dT%H:%M:%SZ") for b in ("start", "end"))
            self.assertEqual((end - start).total_seconds(), 2)
            self.assertEqual(start.second % 2, 0)
            for record in event["Records"]:
                arrived = datetime.datetime.utcfromtimestamp(record["kinesis"]["approximateArrivalTimestamp"])
                self.assertTrue(start <= arrived < end, (start, arrived, end))
        for final in finals():
            self.assertEqual(final["Records"], [])
            window = [e for e in events if e["window"] == final["window"] and not e["isFinalInvokeForWindow"]]
            self.assertEqual(final["state"]["count"], sum(len(e["Records"]) for e in window))
        self.assertEqual(self.given(endpoint), [f"r{i}" for i in range(10)])

    def test_a_reshard_under_load_gives_every_record_parents_first(self):
        endpoint = FunctionEndpoint()
        stream = self.create_stream("esm-reshard", 1)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        self.addCleanup(endpoint.close)
        name, _ = self.create(Code={"ImageUri": endpoint.url})
        uuid = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=25)["UUID"]
        self.addCleanup(EventSourceMappingTestCase.drop_mapping, uuid)
        sent = 0
        for round in range(6):
            self.kinesis.put_records(StreamName=stream, Records=[{"PartitionKey": f"key-{n % 4}", "Data": f"key-{n % 4}:{n}".encode()} for n in range(sent, sent + 50)])
            sent += 50
            if round == 2:
                self.kinesis.update_shard_count(StreamName=stream, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
                wait_active(stream, self.kinesis)
        self.wait_until(lambda: len(self.given(endpoint)) >= sent, f"all {sent} records were given", timeout=60)
        given = self.given(endpoint)
        self.assertEqual(sorted(given), sorted(f"key-{i % 4}:{i}" for i in range(sent)))
        for key in range(4):
            numbers = [int(d.split(":")[1]) for d in given if d.startswith(f"key-{key}:")]
            self.assertEqual(numbers, sorted(numbers), f"key-{key}'s records out of order across the reshard")


class MappingObservabilityTestCase(LambdaBase):
    """What a mapping shows (issue 20): the function's AWS/Lambda metrics through CloudWatch's API and /metrics,
    LastProcessingResult, and a registered consumer as the source (read as that consumer: its SubscribeToShardEvent
    metrics count the records, and nothing is read while it is deregistered)."""

    def window(self):
        now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
        return now - datetime.timedelta(minutes=10), now + datetime.timedelta(minutes=2)

    def statistic(self, namespace, metric, dimensions, statistic="Sum"):
        start, end = self.window()
        points = cloudwatch().get_metric_statistics(Namespace=namespace, MetricName=metric, Dimensions=dimensions,
                                                    StartTime=start, EndTime=end, Period=720, Statistics=[statistic])["Datapoints"]
        return points[0][statistic] if points else None

    def test_the_functions_metrics_and_the_mappings_last_processing_result(self):
        def respond(event, calls):
            fail = any(self.data_of(r) == "bad" for r in event["Records"])
            return (500, {"errorMessage": "bad record", "errorType": "Error"}) if fail else (200, {})
        endpoint = FunctionEndpoint(respond=respond)
        self.addCleanup(endpoint.close)
        stream = self.create_stream("esm-metrics", 1)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        self.kinesis.put_records(StreamName=stream, Records=[{"PartitionKey": "k", "Data": f"r{i}".encode()} for i in range(6)])
        name, _ = self.create(Code={"ImageUri": endpoint.url})
        uuid = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON",
                                                 BatchSize=3, MaximumRetryAttempts=0)["UUID"]
        self.addCleanup(EventSourceMappingTestCase.drop_mapping, uuid)
        self.assertEqual(lam().get_event_source_mapping(UUID=uuid)["LastProcessingResult"], "No records processed")
        self.wait_until(lambda: len(endpoint.calls) >= 2, "both batches were given")
        self.wait_until(lambda: lam().get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "OK", "LastProcessingResult is OK")
        self.kinesis.put_record(StreamName=stream, PartitionKey="k", Data=b"bad")
        self.wait_until(lambda: lam().get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == "PROBLEM: Function call failed",
                        "LastProcessingResult tells of the failure")
        self.assertEqual(len(endpoint.calls), 3)

        dimensions = [{"Name": "FunctionName", "Value": name}]
        self.wait_until(lambda: self.statistic("AWS/Lambda", "Invocations", dimensions) == 3, "three invocations are counted")
        self.assertEqual(self.statistic("AWS/Lambda", "Errors", dimensions), 1)
        self.assertGreaterEqual(self.statistic("AWS/Lambda", "IteratorAge", dimensions, "Maximum"), 0)
        self.assertGreater(self.statistic("AWS/Lambda", "Duration", dimensions, "Maximum"), 0)
        self.assertEqual(self.statistic("AWS/Lambda", "ConcurrentExecutions", dimensions, "Maximum"), 1)
        self.assertEqual(self.statistic("AWS/Kinesis", "GetRecords.Records", [{"Name": "StreamName", "Value": stream}]), 7)
        listed = {m["MetricName"] for m in cloudwatch().list_metrics(Namespace="AWS/Lambda", Dimensions=dimensions)["Metrics"]}
        self.assertTrue({"Invocations", "Errors", "Duration", "ConcurrentExecutions", "IteratorAge"} <= listed, listed)
        # /metrics is each node's own: on a cluster the mapping's invocations are counted by the elected node.
        health = json.loads(urllib.request.urlopen(kinesis_support.ENDPOINT + "/health").read())
        if health.get("elected", True):
            exposition = urllib.request.urlopen(kinesis_support.ENDPOINT + "/metrics").read().decode()
            lines = [line for line in exposition.splitlines() if line.startswith("lambda_invocations_total{") and f'FunctionName="{name}"' in line]
            self.assertEqual([line.split()[-1] for line in lines], ["3"], lines)

    def test_a_registered_consumer_as_the_source(self):
        endpoint = FunctionEndpoint()
        self.addCleanup(endpoint.close)
        stream = self.create_stream("esm-consumer", 1)
        stream_arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}"
        consumer = self.kinesis.register_stream_consumer(StreamARN=stream_arn, ConsumerName="lambda")["Consumer"]
        self.wait_until(lambda: self.kinesis.describe_stream_consumer(ConsumerARN=consumer["ConsumerARN"])["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE",
                        "the consumer is ACTIVE")
        self.kinesis.put_records(StreamName=stream, Records=[{"PartitionKey": "k", "Data": f"r{i}".encode()} for i in range(4)])
        name, _ = self.create(Code={"ImageUri": endpoint.url})
        uuid = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=consumer["ConsumerARN"], StartingPosition="TRIM_HORIZON")["UUID"]
        self.addCleanup(EventSourceMappingTestCase.drop_mapping, uuid)
        self.wait_until(lambda: len(self.given(endpoint)) >= 4, "the records were given")
        self.assertEqual(endpoint.calls[0]["event"]["Records"][0]["eventSourceARN"], stream_arn)  # Lambda names the stream, not the consumer
        dimensions = [{"Name": "ConsumerName", "Value": "lambda"}, {"Name": "StreamName", "Value": stream}]
        self.wait_until(lambda: self.statistic("AWS/Kinesis", "SubscribeToShardEvent.Records", dimensions) == 4, "the consumer's metrics count the records")
        self.assertIsNone(self.statistic("AWS/Kinesis", "GetRecords.Records", [{"Name": "StreamName", "Value": stream}]))

        self.kinesis.deregister_stream_consumer(ConsumerARN=consumer["ConsumerARN"])
        time.sleep(0.5)
        self.kinesis.put_record(StreamName=stream, PartitionKey="k", Data=b"after")
        time.sleep(1.5)
        self.assertEqual(self.given(endpoint), ["r0", "r1", "r2", "r3"])  # not read while the consumer is gone
