"""Shared support for the boto3 interop suite: the endpoint, clients, unique stream names, raw HTTP
requests and the base test case that creates streams and always deletes them again.

The suite runs against one shared server, so every stream name carries this run's random prefix and
every stream a test creates is deleted when the test ends, pass or fail. Every wait is bounded.
"""

import atexit
import base64
import hashlib
import http.client
import itertools
import json
import os
import secrets
import shutil
import tempfile
import time
import unittest
import urllib.parse

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("KINESIS_ENDPOINT", "http://127.0.0.1:4567")
ACCOUNT = os.environ.get("KINESIS_ACCOUNT", "000000000000")
REGION = os.environ.get("KINESIS_REGION", "us-east-1")
RUN_ID = secrets.token_hex(4)
PREFIX = f"interop-py-{RUN_ID}-"

JSON_TYPE = "application/x-amz-json-1.1"
CBOR_TYPE = "application/x-amz-cbor-1.1"
TARGET = "Kinesis_20131202."
# Any well-formed SigV4 header passes: the server checks the shape of the credentials, not the signature.
DUMMY_AUTH = ("AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, "
              "SignedHeaders=host, Signature=abc")
DUMMY_DATE = "20260101T000000Z"

HASH_KEY_SPACE = 2 ** 128
WAIT_SECONDS = 20.0

_counter = itertools.count(1)
_client = None


def set_endpoint(url):
    global ENDPOINT, _client
    ENDPOINT = url.rstrip("/")
    _client = None


def unique_name(tag):
    """A stream name no other test, suite or run uses."""
    return f"{PREFIX}{tag}-{next(_counter)}"


_model_path = []


def _newer_service_model_path():
    """Debian's botocore (1.29) predates StreamARN and ListStreams' NextToken; the AWS CLI v2 package
    ships the newer Kinesis model. Expose only that model (through AWS_DATA_PATH) so stock boto3 speaks
    the current API; when it is missing boto3 keeps its own model and the StreamARN tests fail.
    One directory per run, shared by every client and removed at exit."""
    if not _model_path:
        model = "/usr/lib/python3/dist-packages/awscli/botocore/data/kinesis"
        root = None
        if os.path.isdir(model):
            root = tempfile.mkdtemp(prefix="interop-py-models-")
            os.symlink(model, os.path.join(root, "kinesis"))
            atexit.register(shutil.rmtree, root, True)
        _model_path.append(root)
    return _model_path[0]


def make_client(endpoint, read_timeout=60):
    """A boto3 Kinesis client for one endpoint with the newer model and exactly one attempt per call.
    botocore's `max_attempts` counts retries (1 means two attempts), so `total_max_attempts` it is:
    a throttling or internal error shows as it is instead of being retried away."""
    path = _newer_service_model_path()
    session = boto3.session.Session(aws_access_key_id="interop", aws_secret_access_key="interop",
                                    region_name=REGION)
    if path:
        session._session.get_component("data_loader").search_paths.insert(0, path)
    config = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                    connect_timeout=5, read_timeout=read_timeout)
    return session.client("kinesis", endpoint_url=endpoint, config=config)


def client():
    """One boto3 Kinesis client for the whole run, retries off so that errors show as they are."""
    global _client
    if _client is None:
        _client = make_client(ENDPOINT)
    return _client


def stream_arn(name):
    return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{name}"


def md5_hash_key(partition_key):
    """The hash key AWS derives from a partition key: MD5 of its UTF-8 bytes, big-endian unsigned."""
    return int.from_bytes(hashlib.md5(partition_key.encode("utf-8")).digest(), "big")


def expected_hash_ranges(shard_count):
    """AWS's even split of the 128-bit key space (fact sheet 3.1)."""
    step = HASH_KEY_SPACE // shard_count
    ranges = []
    for i in range(shard_count):
        end = HASH_KEY_SPACE - 1 if i == shard_count - 1 else step * (i + 1) - 1
        ranges.append((step * i, end))
    return ranges


def shard_for(shards, hash_key):
    for shard in shards:
        r = shard["HashKeyRange"]
        if int(r["StartingHashKey"]) <= hash_key <= int(r["EndingHashKey"]):
            return shard["ShardId"]
    raise AssertionError(f"no shard holds hash key {hash_key}")


class RawResponse:
    """A raw HTTP answer: status, headers (names lower-cased) and body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"RawResponse({self.status}, {self.headers!r}, {self.body[:300]!r})"


def raw_request(body=b"", target=None, content_type=JSON_TYPE, method="POST", auth=True, date=True,
                headers=None, path="/", query=""):
    """One HTTP/1.1 request built by hand, for what botocore refuses to send or hides.
    `auth` True adds the dummy SigV4 header; a string sends that exact Authorization value."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    url = urllib.parse.urlsplit(ENDPOINT)
    send = {}
    if content_type is not None:
        send["Content-Type"] = content_type
    if target is not None:
        send["X-Amz-Target"] = target
    if auth is True:
        send["Authorization"] = DUMMY_AUTH
    elif isinstance(auth, str):
        send["Authorization"] = auth
    if date:
        send["X-Amz-Date"] = DUMMY_DATE
    send.update(headers or {})
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
    try:
        connection.request(method, path + (("?" + query) if query else ""), body=body or None, headers=send)
        response = connection.getresponse()
        data = response.read()
        return RawResponse(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        connection.close()


def raw_call(operation, payload, content_type=JSON_TYPE, **kwargs):
    """A JSON request to one operation, sent as-is (no client-side validation)."""
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return raw_request(body, target=TARGET + operation, content_type=content_type, **kwargs)


def signed_call(operation, payload):
    """A JSON request signed with SigV4 by botocore's own signer, as an SDK sends it: for the operations
    Debian's botocore (late 2022) has no model of."""
    body = json.dumps(payload).encode("utf-8")
    request = botocore.awsrequest.AWSRequest(method="POST", url=ENDPOINT + "/", data=body, headers={
        "Content-Type": JSON_TYPE, "X-Amz-Target": TARGET + operation})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("interop", "interop"), "kinesis", REGION).add_auth(request)
    headers = dict(request.headers.items())
    return raw_request(body, target=headers.pop("X-Amz-Target"), content_type=headers.pop("Content-Type"),
                       auth=headers.pop("Authorization"), date=False, headers=headers)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def delete_quietly(name, kinesis=None):
    """Deletes a stream of this run, with any consumers registered to it, ignoring errors."""
    try:
        (kinesis or client()).delete_stream(StreamName=name, EnforceConsumerDeletion=True)
    except ClientError:
        pass


def wait_until(condition, what, seconds=WAIT_SECONDS, interval=0.05):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(interval)


def wait_active(name, kinesis=None):
    def active():
        return (kinesis or client()).describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE"
    wait_until(active, f"stream {name} to become ACTIVE")


def wait_gone(name):
    def gone():
        try:
            client().describe_stream_summary(StreamName=name)
            return False
        except ClientError as e:
            return e.response["Error"]["Code"] == "ResourceNotFoundException"
    wait_until(gone, f"stream {name} to be deleted")


def wait_no_deletions():
    """Waits until no stream of this run is DELETING, so account-wide counts (DescribeLimits) hold still."""
    def settled():
        page = client().list_streams(ExclusiveStartStreamName=PREFIX, Limit=100)
        return not any(s["StreamName"].startswith(PREFIX) and s["StreamStatus"] == "DELETING"
                       for s in page.get("StreamSummaries", []))
    wait_until(settled, "this run's deleted streams to be gone")


def sweep_streams():
    """Deletes any stream left behind by this run (a test that died between create and cleanup)."""
    left = []
    try:
        start = PREFIX
        for _ in range(100):
            page = client().list_streams(ExclusiveStartStreamName=start, Limit=100)
            names = [n for n in page["StreamNames"] if n.startswith(PREFIX)]
            left += names
            if not page["HasMoreStreams"] or len(names) < len(page["StreamNames"]) or not names:
                break
            start = names[-1]
    except Exception:  # the server may be gone; nothing to clean then
        return []
    for name in left:
        delete_quietly(name)
    return left


class KinesisTestCase(unittest.TestCase):
    """Base case: a client, stream creation with guaranteed clean-up, and error assertions."""

    maxDiff = 4000

    @property
    def kinesis(self):
        return client()

    def create_stream(self, tag, shard_count=1, **kwargs):
        name = unique_name(tag)
        if shard_count is not None:
            kwargs["ShardCount"] = shard_count
        self.kinesis.create_stream(StreamName=name, **kwargs)
        self.addCleanup(delete_quietly, name, self.kinesis)
        wait_active(name, self.kinesis)
        return name

    def create_stream_raw(self, tag, payload):
        """CreateStream through a raw request, for members the boto3 model lacks (Tags)."""
        name = unique_name(tag)
        response = raw_call("CreateStream", dict(payload, StreamName=name))
        self.addCleanup(delete_quietly, name)
        self.assertEqual(response.status, 200, response)
        wait_active(name)
        return name

    def shards(self, name):
        return self.kinesis.list_shards(StreamName=name)["Shards"]

    def assert_client_error(self, code, message, function, *args, **kwargs):
        """Calls a boto3 operation that must fail with this error code and exact message
        (message None: not checked; a compiled regex: must match in full)."""
        with self.assertRaises(ClientError) as caught:
            function(*args, **kwargs)
        error = caught.exception.response["Error"]
        self.assertEqual(error.get("Code"), code, f"error was {error}")
        if message is None:
            return error
        if hasattr(message, "fullmatch"):
            self.assertTrue(message.fullmatch(error.get("Message", "")), f"{error.get('Message')!r} !~ {message.pattern!r}")
        else:
            self.assertEqual(error.get("Message"), message)
        return error

    def assert_raw_error(self, response, status, error_type, message=None, message_field="message"):
        """A JSON error answer: status, __type and exactly this message (None: no message at all)."""
        self.assertEqual(response.status, status, response)
        self.assertEqual(response.headers.get("content-type"), JSON_TYPE, response)
        body = response.json()
        self.assertEqual(body.get("__type"), error_type, body)
        if message is None:
            self.assertEqual(set(body), {"__type"}, body)
        else:
            self.assertEqual(body.get(message_field), message, body)
            self.assertEqual(set(body), {"__type", message_field}, body)
        return body

    def not_found(self, name):
        return f"Stream {name} under account {ACCOUNT} not found."

    def read_all(self, name, shard_id, iterator_type="TRIM_HORIZON", limit=None, **kwargs):
        """Every record from an iterator of this type until the shard's tip, at most 50 calls."""
        iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id,
                                                   ShardIteratorType=iterator_type, **kwargs)["ShardIterator"]
        records = []
        for _ in range(50):
            args = {"ShardIterator": iterator}
            if limit:
                args["Limit"] = limit
            page = self.kinesis.get_records(**args)
            records += page["Records"]
            iterator = page.get("NextShardIterator")
            if not page["Records"] or iterator is None:
                return records
        raise AssertionError("shard did not reach its tip within 50 GetRecords calls")


FIREHOSE_TARGET = "Firehose_20150804."


_service_clients = {}


def service_client(service):
    """One boto3 client of another service on the endpoint (firehose, cloudwatch) for the whole run, one attempt a call."""
    if service not in _service_clients:
        session = boto3.session.Session(aws_access_key_id="interop", aws_secret_access_key="interop", region_name=REGION)
        config = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60)
        _service_clients[service] = session.client(service, endpoint_url=ENDPOINT, config=config)
    return _service_clients[service]


def firehose():
    """The Firehose client (Debian's model of late 2022; raw_firehose for newer members)."""
    return service_client("firehose")


def cloudwatch():
    """The CloudWatch client (Debian's botocore speaks CloudWatch's query protocol)."""
    return service_client("cloudwatch")


def raw_firehose(operation, payload, **kwargs):
    """A JSON request to one Firehose operation, sent as-is (no client-side validation)."""
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return raw_request(body, target=FIREHOSE_TARGET + operation, **kwargs)


def delete_delivery_stream_quietly(name):
    try:
        firehose().delete_delivery_stream(DeliveryStreamName=name)
    except ClientError:
        pass
