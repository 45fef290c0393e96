"""The HTTP pipeline before any operation runs: statuses, bodies and headers of fact sheet section 1
(the order of checks in 1.4 and the table in 1.6), sent as raw HTTP/1.1 requests."""

import base64
import http.client
import re
import socket
import urllib.parse

import kinesis_support
from kinesis_support import CBOR_TYPE, JSON_TYPE, TARGET, KinesisTestCase, raw_call, raw_request, unique_name

REQUEST_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ACCESS_DENIED = (b"<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized"
                 b"</Message>\n</AccessDeniedException>\n")
UNKNOWN_OPERATION_XML = b"<UnknownOperationException/>\n"
EXPOSE_HEADERS = "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"
# The exact CBOR AWS sends for the message-less errors (fact sheet 7.4): an indefinite-length map.
CBOR_UNKNOWN_OPERATION = b"\xbf\x66__type\x78\x19UnknownOperationException\xff"
CBOR_SERIALIZATION = b"\xbf\x66__type\x76SerializationException\xff"


def cbor_error_type(body):
    """The __type of a one-entry CBOR error map, definite (A1) or indefinite (BF ... FF)."""
    if body[:1] == b"\xbf" and body[-1:] == b"\xff":
        inner = body[1:-1]
    elif body[:1] == b"\xa1":
        inner = body[1:]
    else:
        raise AssertionError(f"not a one-entry CBOR map: {body!r}")
    strings = []
    while inner:
        head = inner[0]
        if head >> 5 != 3:
            raise AssertionError(f"not a text string in {body!r}")
        length, start = head & 0x1F, 1
        if length == 24:
            length, start = inner[1], 2
        strings.append(inner[start:start + length].decode())
        inner = inner[start + length:]
    if len(strings) != 2 or strings[0] != "__type":
        raise AssertionError(f"unexpected CBOR error map {strings}")
    return strings[1]


class ResponseHeaderTests(KinesisTestCase):

    def sample_responses(self):
        return {
            "success": raw_call("ListStreams", {"Limit": 1}),
            "json error": raw_call("DescribeStream", {"StreamName": unique_name("hdr")}),
            "xml error": raw_request(method="GET"),
            "no auth": raw_call("ListStreams", {}, auth=False),
        }

    def test_request_id_on_every_response(self):
        responses = self.sample_responses()
        responses["preflight"] = raw_request(method="OPTIONS", headers={"Origin": "http://example.com"})
        for kind, response in responses.items():
            with self.subTest(kind):
                self.assertRegex(response.headers.get("x-amzn-requestid", ""), REQUEST_ID)
                self.assertTrue(REQUEST_ID.fullmatch(response.headers["x-amzn-requestid"]), response.headers)
        ids = {r.headers["x-amzn-requestid"] for r in responses.values()}
        self.assertEqual(len(ids), len(responses), "every response gets a fresh id")

    def test_request_id_is_a_time_based_uuid(self):
        # Fact sheet 1.1: a version-1 (time-based) UUID, as AWS sends.
        request_id = raw_call("ListStreams", {"Limit": 1}).headers["x-amzn-requestid"]
        self.assertEqual(request_id[14], "1", f"{request_id} is not a version-1 UUID")

    def test_amz_id_2_header(self):
        for kind, response in self.sample_responses().items():
            with self.subTest(kind):
                value = response.headers.get("x-amz-id-2")
                self.assertIsNotNone(value, response.headers)
                self.assertTrue(64 <= len(base64.b64decode(value, validate=True)) <= 80, value)

    def test_date_header(self):
        for kind, response in self.sample_responses().items():
            with self.subTest(kind):
                self.assertRegex(response.headers.get("date", ""), r"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$")

    def test_success_content_type_and_length(self):
        response = raw_call("ListStreams", {"Limit": 1})
        self.assertEqual(response.status, 200)
        self.assertEqual(response.headers.get("content-type"), JSON_TYPE)
        self.assertEqual(response.headers.get("content-length"), str(len(response.body)))

    def test_content_type_parameters_are_dropped(self):
        response = raw_call("ListStreams", {"Limit": 1}, content_type=JSON_TYPE + "; charset=utf-8")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.headers.get("content-type"), JSON_TYPE)

    def test_any_path_is_accepted(self):
        response = raw_call("ListStreams", {"Limit": 1}, path="/some/other/path")
        self.assertEqual(response.status, 200, response)
        self.assertIn("StreamNames", response.json())


class CorsTests(KinesisTestCase):

    def test_preflight(self):
        response = raw_request(method="OPTIONS", headers={"Origin": "http://example.com",
                                                          "Access-Control-Request-Headers": "x-amz-target, content-type",
                                                          "Access-Control-Request-Method": "POST"})
        self.assertEqual(response.status, 200)
        self.assertEqual(response.body, b"")
        self.assertEqual(response.headers.get("content-length"), "0")
        self.assertNotIn("content-type", response.headers)
        self.assertNotIn("x-amz-id-2", response.headers)
        self.assertEqual(response.headers.get("access-control-allow-origin"), "*")
        self.assertEqual(response.headers.get("access-control-allow-headers"), "x-amz-target, content-type")
        self.assertEqual(response.headers.get("access-control-allow-methods"), "POST")
        self.assertEqual(response.headers.get("access-control-max-age"), "172800")

    def test_preflight_without_request_headers(self):
        response = raw_request(method="OPTIONS", headers={"Origin": "http://example.com"})
        self.assertEqual(response.status, 200)
        self.assertNotIn("access-control-allow-headers", response.headers)
        self.assertNotIn("access-control-allow-methods", response.headers)

    def test_cors_headers_on_other_requests(self):
        response = raw_call("ListStreams", {"Limit": 1}, headers={"Origin": "http://example.com"})
        self.assertEqual(response.status, 200)
        self.assertEqual(response.headers.get("access-control-allow-origin"), "*")
        self.assertEqual(response.headers.get("access-control-expose-headers"), EXPOSE_HEADERS)
        self.assertNotIn("access-control-allow-origin", raw_call("ListStreams", {"Limit": 1}).headers)


class PipelineTests(KinesisTestCase):
    """One test per row of the fact sheet 1.6 table, in the order of the checks."""

    def assert_xml(self, response, status, body):
        self.assertEqual(response.status, status, response)
        self.assertEqual(response.body, body)
        self.assertNotIn("content-type", response.headers)

    def test_method_other_than_post_is_access_denied(self):
        for method in ("GET", "PUT", "DELETE", "OPTIONS"):
            with self.subTest(method):
                self.assert_xml(raw_request(b"{}", target=TARGET + "ListStreams", method=method), 403, ACCESS_DENIED)

    def test_empty_body_with_json_content_type(self):
        response = raw_request(b"", target=TARGET + "ListStreams")
        self.assert_raw_error(response, 400, "SerializationException")
        response = raw_request(b"", target=TARGET + "NoSuchOperation")
        self.assert_raw_error(response, 400, "UnknownOperationException")

    def test_empty_body_with_any_other_content_type_is_cbor(self):
        cases = [
            ({"content_type": None, "target": None, "auth": False, "date": False}, CBOR_UNKNOWN_OPERATION),
            ({"content_type": "application/json", "target": TARGET + "ListStreams"}, CBOR_SERIALIZATION),
            ({"content_type": "text/plain", "target": TARGET + "ListStreams"}, CBOR_SERIALIZATION),
            ({"content_type": CBOR_TYPE, "target": TARGET + "ListStreams"}, CBOR_SERIALIZATION),
            ({"content_type": CBOR_TYPE, "target": "Whatever"}, CBOR_UNKNOWN_OPERATION),
        ]
        for arguments, expected in cases:
            with self.subTest(arguments):
                response = raw_request(b"", **arguments)
                self.assertEqual(response.status, 400)
                self.assertEqual(response.headers.get("content-type"), CBOR_TYPE)
                self.assertEqual(cbor_error_type(response.body), cbor_error_type(expected))

    def test_cbor_error_bytes_match_aws(self):
        response = raw_request(b"", content_type=None, target=None, auth=False, date=False)
        self.assertEqual(response.body, CBOR_UNKNOWN_OPERATION)
        response = raw_request(b"", content_type=CBOR_TYPE, target=TARGET + "ListStreams")
        self.assertEqual(response.body, CBOR_SERIALIZATION)

    def test_bad_content_type_without_operation_is_access_denied(self):
        for content_type in ("text/plain", "application/x-amz-json-1.0", None):
            for target in (None, "Kinesis_20131202", "Kinesis_20131202."):
                with self.subTest(content_type=content_type, target=target):
                    self.assert_xml(raw_request(b"{}", target=target, content_type=content_type), 403, ACCESS_DENIED)

    def test_bad_content_type_with_operation_is_unknown_operation(self):
        for content_type in ("text/plain", "application/x-amz-json-1.0", "application/x-amz-json-1.1asdf", None):
            with self.subTest(content_type):
                self.assert_xml(raw_request(b"{}", target=TARGET + "ListStreams", content_type=content_type), 404,
                                UNKNOWN_OPERATION_XML)

    def test_unparsable_json_body(self):
        for body in (b"{", b"hello", b"true", b"null", b"1", b'"x"', b"\xff\xfe"):
            with self.subTest(body):
                self.assert_raw_error(raw_request(body, target=TARGET + "ListStreams"), 400, "SerializationException")

    def test_top_level_array_body(self):
        # kinesalite lets [] through; Coral answers this (fact sheet 1.4 step 7 recommendation).
        response = raw_request(b"[]", target=TARGET + "ListStreams")
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json().get("__type"), "SerializationException")

    def test_unparsable_cbor_body(self):
        for body in (b"\xbf", b"\x01", b"\x63abc", b"\xff"):
            with self.subTest(body):
                response = raw_request(body, target=TARGET + "ListStreams", content_type=CBOR_TYPE)
                self.assertEqual(response.status, 400)
                self.assertEqual(response.headers.get("content-type"), CBOR_TYPE)
                self.assertEqual(cbor_error_type(response.body), "SerializationException")

    def test_application_json_unparsable(self):
        response = raw_request(b"{", target=TARGET + "ListStreams", content_type="application/json")
        self.assertEqual(response.status, 400)
        self.assertEqual(response.headers.get("content-type"), "application/json")
        self.assertEqual(response.json(), {"Output": {"__type": "com.amazon.coral.service#SerializationException"}, "Version": "1.0"})

    def test_application_json_parsable_is_unknown_operation(self):
        for target in (TARGET + "ListStreams", "Whatever"):
            with self.subTest(target):
                response = raw_request(b"{}", target=target, content_type="application/json")
                self.assertEqual(response.status, 404)
                self.assertEqual(response.headers.get("content-type"), "application/json")
                self.assertEqual(response.json(), {"Output": {"__type": "com.amazon.coral.service#UnknownOperationException"}, "Version": "1.0"})

    def test_unknown_target(self):
        for target in (TARGET + "ListStream", TARGET + "liststreams", "Whatever", TARGET, "Kinesis_20131203.ListStreams", None):
            with self.subTest(target):
                self.assert_raw_error(raw_request(b"{}", target=target), 400, "UnknownOperationException")

    def test_unknown_target_in_cbor(self):
        response = raw_request(b"\xa0", target=TARGET + "ListStream", content_type=CBOR_TYPE)
        self.assertEqual(response.status, 400)
        self.assertEqual(response.headers.get("content-type"), CBOR_TYPE)
        self.assertEqual(cbor_error_type(response.body), "UnknownOperationException")

    def test_unknown_operation_is_checked_before_auth(self):
        self.assert_raw_error(raw_request(b"{}", target=TARGET + "Nope", auth=False), 400, "UnknownOperationException")


class AuthenticationTests(KinesisTestCase):

    def test_missing_authentication_token(self):
        self.assert_raw_error(raw_call("ListStreams", {}, auth=False), 400, "MissingAuthenticationTokenException",
                              "Missing Authentication Token")

    def test_query_parameters_other_than_algorithm_are_not_auth(self):
        self.assert_raw_error(raw_call("ListStreams", {}, auth=False, query="X-Amz-Credential=a"), 400,
                              "MissingAuthenticationTokenException", "Missing Authentication Token")

    def test_auth_is_checked_before_validation(self):
        self.assert_raw_error(raw_call("CreateStream", {"StreamName": ""}, auth=False), 400,
                              "MissingAuthenticationTokenException", "Missing Authentication Token")

    def test_header_and_query_auth_together(self):
        self.assert_raw_error(raw_call("ListStreams", {}, query="X-Amz-Algorithm"), 400, "InvalidSignatureException",
                              "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")

    def test_incomplete_authorization_header(self):
        self.assert_raw_error(
            raw_call("ListStreams", {}, auth="X", date=False), 400, "IncompleteSignatureException",
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. "
            "Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either "
            "a 'X-Amz-Date' or a 'Date' header. Authorization=X")
        self.assert_raw_error(
            raw_call("ListStreams", {}, auth="AWS4- Signature=b, Credential=a", date=False,
                     headers={"Date": "Thu, 01 Jan 2026 00:00:00 GMT"}),
            400, "IncompleteSignatureException",
            "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b, Credential=a")

    def test_incomplete_query_auth(self):
        self.assert_raw_error(
            raw_call("ListStreams", {}, auth=False, date=False,
                     query="X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d"),
            400, "IncompleteSignatureException",
            "AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.")

    def test_auth_error_in_cbor(self):
        response = raw_request(b"\xa0", target=TARGET + "ListStreams", content_type=CBOR_TYPE, auth=False)
        self.assertEqual(response.status, 400)
        self.assertEqual(response.headers.get("content-type"), CBOR_TYPE)
        self.assertIn(b"MissingAuthenticationTokenException", response.body)
        self.assertIn(b"Missing Authentication Token", response.body)


class BodySizeTests(KinesisTestCase):

    def test_oversized_body_is_413(self):
        # Runnel's limit is a setting (16 MiB by default, kinesalite's is 7 MiB); 17 MiB is over both.
        url = urllib.parse.urlsplit(kinesis_support.ENDPOINT)
        size = 17 * 1024 * 1024
        connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
        try:
            connection.putrequest("POST", "/")
            for header, value in (("Content-Type", JSON_TYPE), ("X-Amz-Target", TARGET + "ListStreams"),
                                  ("Authorization", kinesis_support.DUMMY_AUTH), ("X-Amz-Date", kinesis_support.DUMMY_DATE),
                                  ("Content-Length", str(size))):
                connection.putheader(header, value)
            connection.endheaders()
            chunk = b" " * (1024 * 1024)
            try:
                for _ in range(17):
                    connection.send(chunk)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                pass  # the server may answer and close before reading everything
            response = connection.getresponse()
            self.assertEqual(response.status, 413)
        finally:
            connection.close()
