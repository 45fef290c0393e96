"""Functions that run in processes through Lambda's Runtime API (issue 20), driven by boto3's `lambda` client: a custom
runtime's `bootstrap` uploaded as a ZipFile (a runtime client written here, as a user's bootstrap would be), and a
Node.js function run by AWS's own runtime interface client (npm `aws-lambda-ric`; the server runs with
`--node-runtime-client`, as scripts/test.sh starts it). Invocations, function errors, timeouts, and an event-source
mapping whose records reach a Node.js handler."""

import base64
import io
import json
import os
import tempfile
import time
import zipfile

from kinesis_support import ACCOUNT, REGION, KinesisTestCase, service_client, unique_name

ROLE = f"arn:aws:iam::{ACCOUNT}:role/runnel-test"

BOOTSTRAP = r'''#!/usr/bin/python3
import json, os, sys, time, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    time.sleep(event.get("sleep", 0))
    if "fail" in event:
        path, body = rid + "/error", {"errorType": "Failed", "errorMessage": event["fail"]}
    else:
        path, body = rid + "/response", {"echo": event, "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"], "pid": os.getpid()}
    urllib.request.urlopen(urllib.request.Request(api + path, data=json.dumps(body).encode(), method="POST")).read()
'''

NODE_HANDLER = r'''
const fs = require("fs");
exports.handler = async (event, context) => {
  if (event.Records) {
    fs.appendFileSync(process.env.OUT, event.Records.map(r => Buffer.from(r.kinesis.data, "base64").toString()).join("\n") + "\n");
    return {};
  }
  if (event.fail) {
    const error = new Error(event.fail);
    error.name = "HandlerError";
    throw error;
  }
  return { echo: event, requestId: context.awsRequestId, arn: context.invokedFunctionArn, remaining: context.getRemainingTimeInMillis() };
};
'''


def lam():
    return service_client("lambda")


def zipped(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o100755 << 16
            archive.writestr(info, text)
    return buffer.getvalue()


class RuntimeApiTestCase(KinesisTestCase):

    def create(self, tag, **arguments):
        name = unique_name(tag)
        answer = lam().create_function(FunctionName=name, Role=ROLE, **arguments)
        self.addCleanup(lambda: lam().delete_function(FunctionName=name))
        return name, answer

    def invoke(self, name, event):
        answer = lam().invoke(FunctionName=name, Payload=json.dumps(event).encode())
        return json.loads(answer["Payload"].read()), answer.get("FunctionError")

    def test_a_custom_runtimes_bootstrap_runs_warm_fails_and_times_out(self):
        name, created = self.create("bootstrap", Runtime="provided.al2023", Handler="function.handler", Timeout=2,
                                    Code={"ZipFile": zipped({"bootstrap": BOOTSTRAP})})
        self.assertEqual((created["PackageType"], created["Runtime"], created["State"]), ("Zip", "provided.al2023", "Active"))
        self.assertGreater(created["CodeSize"], 200)
        first, error = self.invoke(name, {"n": 1})
        self.assertIsNone(error)
        self.assertEqual((first["echo"], first["function"]), ({"n": 1}, name))
        second, _ = self.invoke(name, {"n": 2})
        self.assertEqual(second["pid"], first["pid"])  # the same process, warm
        failed, error = self.invoke(name, {"fail": "on purpose"})
        self.assertEqual(error, "Unhandled")
        self.assertEqual(failed, {"errorType": "Failed", "errorMessage": "on purpose"})
        timed_out, error = self.invoke(name, {"sleep": 10})
        self.assertEqual(error, "Unhandled")
        self.assertEqual(timed_out["errorType"], "Sandbox.Timedout")
        self.assertTrue(timed_out["errorMessage"].endswith("Task timed out after 2.00 seconds"), timed_out)
        fresh, error = self.invoke(name, {"n": 3})
        self.assertIsNone(error)
        self.assertNotEqual(fresh["pid"], first["pid"])  # the timed-out process was killed; a new one serves
        code = lam().get_function(FunctionName=name)["Code"]
        self.assertEqual(code["RepositoryType"], "S3")

        # New code and configuration: the next invocation runs them, in a new process.
        revision = lam().get_function(FunctionName=name)["Configuration"]["RevisionId"]
        updated = lam().update_function_code(FunctionName=name, ZipFile=zipped({"bootstrap": BOOTSTRAP.replace('"echo": event', '"echo": event, "v": 2')}),
                                             RevisionId=revision)
        self.assertNotEqual(updated["RevisionId"], revision)
        self.assertNotEqual(updated["CodeSha256"], created["CodeSha256"])
        newer, error = self.invoke(name, {"n": 4})
        self.assertEqual((newer.get("v"), error), (2, None))
        configured = lam().update_function_configuration(FunctionName=name, Timeout=9, Description="changed")
        self.assertEqual((configured["Timeout"], configured["Description"]), (9, "changed"))
        with self.assertRaises(lam().exceptions.PreconditionFailedException):
            lam().update_function_configuration(FunctionName=name, Timeout=5, RevisionId=revision)

    def test_a_nodejs_function_runs_with_aws_lambda_ric(self):
        name, created = self.create("node", Runtime="nodejs20.x", Handler="index.handler", Code={"ZipFile": zipped({"index.js": NODE_HANDLER})})
        answer, error = self.invoke(name, {"hello": "node"})
        self.assertIsNone(error, answer)
        self.assertEqual(answer["echo"], {"hello": "node"})
        self.assertEqual(answer["arn"], created["FunctionArn"])
        self.assertRegex(answer["requestId"], r"^[0-9a-f-]{36}$")
        self.assertTrue(0 < answer["remaining"] <= 3000, answer)
        failed, error = self.invoke(name, {"fail": "thrown by the handler"})
        self.assertEqual(error, "Unhandled")
        self.assertEqual((failed["errorType"], failed["errorMessage"]), ("HandlerError", "thrown by the handler"))
        self.assertIsInstance(failed["trace"], list)

        broken, _ = self.create("node-broken", Runtime="nodejs20.x", Handler="index.nope", Code={"ZipFile": zipped({"index.js": NODE_HANDLER})})
        missing, error = self.invoke(broken, {})
        self.assertEqual(error, "Unhandled")
        self.assertEqual(missing["errorType"], "Runtime.HandlerNotFound")

    def test_a_mapping_gives_every_record_to_a_nodejs_handler(self):
        out = tempfile.NamedTemporaryFile(prefix="runnel-node-", suffix=".txt", delete=False)
        out.close()
        self.addCleanup(os.unlink, out.name)
        stream = self.create_stream("esm-node", 2)
        for i in range(40):
            self.kinesis.put_record(StreamName=stream, PartitionKey=f"key-{i % 5}", Data=f"record-{i}".encode())
        name, _ = self.create("node-esm", Runtime="nodejs20.x", Handler="index.handler", Code={"ZipFile": zipped({"index.js": NODE_HANDLER})},
                              Environment={"Variables": {"OUT": out.name}})
        uuid = lam().create_event_source_mapping(FunctionName=name, EventSourceArn=f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream}",
                                                 StartingPosition="TRIM_HORIZON", BatchSize=7)["UUID"]
        self.addCleanup(lambda: lam().delete_event_source_mapping(UUID=uuid))
        deadline = time.time() + 60
        lines = []
        while time.time() < deadline:
            with open(out.name) as f:
                lines = [line for line in f.read().splitlines() if line]
            if len(lines) >= 40:
                break
            time.sleep(0.2)
        self.assertEqual(sorted(lines, key=lambda s: int(s.split("-")[1])), [f"record-{i}" for i in range(40)])
