"""Registered stream consumers (enhanced fan-out's control plane) through stock boto3: register, describe,
list with paging, deregister, and DeleteStream's EnforceConsumerDeletion."""

import re

from kinesis_support import ACCOUNT, KinesisTestCase, stream_arn, wait_until

CONSUMER_ARN = re.compile(r"arn:aws:kinesis:[a-z0-9-]+:\d{12}:stream/(?P<stream>[a-zA-Z0-9_.-]+)"
                          r"/consumer/(?P<name>[a-zA-Z0-9_.-]+):(?P<seconds>\d+)")


class StreamConsumerTests(KinesisTestCase):

    def wait_consumer_active(self, arn):
        wait_until(lambda: self.kinesis.describe_stream_consumer(ConsumerARN=arn)["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE",
                   f"consumer {arn} to become ACTIVE")

    def test_register_describe_list_deregister(self):
        name = self.create_stream("consumers")
        arn = stream_arn(name)
        consumer = self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="reader")["Consumer"]
        self.assertEqual(set(consumer), {"ConsumerName", "ConsumerARN", "ConsumerStatus", "ConsumerCreationTimestamp"})
        self.assertEqual(consumer["ConsumerName"], "reader")
        self.assertIn(consumer["ConsumerStatus"], ("CREATING", "ACTIVE"))
        parts = CONSUMER_ARN.fullmatch(consumer["ConsumerARN"])
        self.assertIsNotNone(parts, consumer["ConsumerARN"])
        self.assertEqual((parts["stream"], parts["name"]), (name, "reader"))
        self.assertEqual(int(parts["seconds"]), int(consumer["ConsumerCreationTimestamp"].timestamp()))
        self.wait_consumer_active(consumer["ConsumerARN"])

        by_name = self.kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="reader")["ConsumerDescription"]
        self.assertEqual(by_name["ConsumerARN"], consumer["ConsumerARN"])
        self.assertEqual(by_name["StreamARN"], arn)
        self.assertEqual(by_name["ConsumerStatus"], "ACTIVE")
        summary = self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        self.assertEqual(summary["ConsumerCount"], 1)

        self.assert_client_error("ResourceInUseException", None,
                                 self.kinesis.register_stream_consumer, StreamARN=arn, ConsumerName="reader")
        self.assert_client_error("ResourceInUseException", None, self.kinesis.delete_stream, StreamName=name)

        for extra in ("b", "c"):
            self.kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=extra)
        first = self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2)
        second = self.kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2, NextToken=first["NextToken"])
        self.assertNotIn("NextToken", second)
        listed = [c["ConsumerName"] for c in first["Consumers"] + second["Consumers"]]
        self.assertEqual(sorted(listed), ["b", "c", "reader"])

        self.kinesis.deregister_stream_consumer(ConsumerARN=consumer["ConsumerARN"])

        def gone():
            return [c["ConsumerName"] for c in self.kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]] == ["b", "c"]
        wait_until(gone, "the deregistered consumer to disappear")
        self.assert_client_error("ResourceNotFoundException", None,
                                 self.kinesis.describe_stream_consumer, ConsumerARN=consumer["ConsumerARN"])

        # EnforceConsumerDeletion deletes the stream with the consumers still registered to it.
        self.kinesis.delete_stream(StreamName=name, EnforceConsumerDeletion=True)

    def test_unknown_stream_and_unknown_consumer(self):
        missing = stream_arn(f"missing-{ACCOUNT}")
        self.assert_client_error("ResourceNotFoundException", f"Stream missing-{ACCOUNT} under account {ACCOUNT} not found.",
                                 self.kinesis.register_stream_consumer, StreamARN=missing, ConsumerName="c")
        name = self.create_stream("consumers")
        self.assert_client_error("ResourceNotFoundException", None,
                                 self.kinesis.describe_stream_consumer, StreamARN=stream_arn(name), ConsumerName="nobody")
        self.assert_client_error("InvalidArgumentException", None,
                                 self.kinesis.deregister_stream_consumer, ConsumerName="nobody")
