using System.Text;
using Runnel.Core.Errors;
using Runnel.Protocol.Kinesis;
using Runnel.Protocol.Requests;
using Runnel.Protocol.Validation;

namespace Runnel.Protocol.Tests;

/// <summary>The validation messages AWS sends, as captured from AWS (docs/compatibility.md).</summary>
public class RequestValidatorTests
{
    /// <summary>The error for a JSON body; the same body sent as CBOR (one request model) must give the same.</summary>
    private static KinesisException Fail(string json, Shape shape)
    {
        using var doc = RequestDocument.ParseJson(Encoding.UTF8.GetBytes(json));
        var e = Assert.Throws<KinesisException>(() => RequestValidator.Validate(doc.Root, shape));
        using var cbor = RequestDocument.ParseCbor(JsonAsCbor.Encode(json));
        var fromCbor = Assert.Throws<KinesisException>(() => RequestValidator.Validate(cbor.Root, shape));
        Assert.Equal((e.ErrorType, e.Message), (fromCbor.ErrorType, fromCbor.Message));
        return e;
    }

    private static void Pass(string json, Shape shape)
    {
        using var doc = RequestDocument.ParseJson(Encoding.UTF8.GetBytes(json));
        RequestValidator.Validate(doc.Root, shape);
        using var cbor = RequestDocument.ParseCbor(JsonAsCbor.Encode(json));
        RequestValidator.Validate(cbor.Root, shape);
    }

    [Fact]
    public void Create_stream_with_empty_name_and_zero_shards_lists_three_errors_in_aws_order()
    {
        var e = Fail("""{"StreamName":"","ShardCount":0}""", KinesisShapes.CreateStream);
        Assert.Equal("ValidationException", e.ErrorType);
        Assert.Equal(
            "3 validation errors detected: " +
            "Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
            "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
            "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1",
            e.WireMessage);
    }

    [Fact]
    public void Missing_required_members_are_reported_as_null()
    {
        var e = Fail("{}", KinesisShapes.PutRecord);
        Assert.Equal(
            "3 validation errors detected: " +
            "Value null at 'partitionKey' failed to satisfy constraint: Member must not be null; " +
            "Value null at 'data' failed to satisfy constraint: Member must not be null; " +
            "Value null at 'streamName' failed to satisfy constraint: Member must not be null",
            e.WireMessage);
        Pass("""{"StreamARN":"arn:aws:kinesis:us-east-1:000000000000:stream/s","PartitionKey":"k","Data":""}""", KinesisShapes.PutRecord);
    }

    [Fact]
    public void Put_record_with_every_member_empty_matches_the_aws_capture()
    {
        var e = Fail("""{"SequenceNumberForOrdering":"","PartitionKey":"","Data":"","ExplicitHashKey":"","StreamName":""}""", KinesisShapes.PutRecord);
        Assert.Equal(
            "5 validation errors detected: " +
            @"Value '' at 'sequenceNumberForOrdering' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,128}); " +
            "Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
            @"Value '' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\d{0,38}); " +
            "Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
            "Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1",
            e.WireMessage);
    }

    [Fact]
    public void Get_records_limit_and_iterator()
    {
        var e = Fail("""{"ShardIterator":"","Limit":0}""", KinesisShapes.GetRecords);
        Assert.Equal(
            "2 validation errors detected: " +
            "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
            "Value '' at 'shardIterator' failed to satisfy constraint: Member must have length greater than or equal to 1",
            e.WireMessage);
    }

    [Fact]
    public void At_most_ten_errors_are_listed()
    {
        var records = string.Join(",", Enumerable.Range(0, 501).Select(_ => """{"PartitionKey":"","Data":""}"""));
        var e = Fail($$"""{"StreamName":"","Records":[{{records}}]}""", KinesisShapes.PutRecords);
        Assert.StartsWith("10 validation errors detected: Value '[com.amazonaws.kinesis.v20131202.PutRecordsRequestEntry@", e.WireMessage);
        Assert.Contains("at 'records' failed to satisfy constraint: Member must have length less than or equal to 500", e.WireMessage);
        Assert.Contains("Value '' at 'records.9.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1", e.WireMessage);
        Assert.DoesNotContain("records.10.member", e.WireMessage);
        Assert.DoesNotContain("streamName", e.WireMessage);
    }

    [Fact]
    public void Integers_are_floored_and_clamped_before_range_checks()
    {
        var describe = Fail("""{"StreamName":"s","Limit":10000.9e3}""", KinesisShapes.DescribeStream);
        Assert.Equal("1 validation error detected: Value '10000900' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000", describe.WireMessage);
        var clamped = Fail("""{"StreamName":"s","Limit":100000000000}""", KinesisShapes.DescribeStream);
        Assert.Equal("1 validation error detected: Value '2147483647' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000", clamped.WireMessage);
        Pass("""{"StreamName":"s","Limit":34.56}""", KinesisShapes.DescribeStream);
    }

    [Fact]
    public void Blobs_are_shown_as_java_byte_buffers()
    {
        string big = Convert.ToBase64String(new byte[10 * 1024 * 1024 + 1]);
        var e = Fail($$"""{"StreamName":"s","PartitionKey":"k","Data":"{{big}}"}""", KinesisShapes.PutRecord);
        Assert.Equal("1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=10485761 cap=10485761]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 10485760", e.WireMessage);
    }

    [Fact]
    public void Tag_maps_and_key_lists_use_the_collection_messages()
    {
        var empty = Fail("""{"StreamName":"s","Tags":{}}""", KinesisShapes.AddTagsToStream);
        Assert.Equal("1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1", empty.WireMessage);
        string longKey = new('k', 129);
        var key = Fail($$$"""{"StreamName":"s","Tags":{"{{{longKey}}}":"v"}}""", KinesisShapes.AddTagsToStream);
        Assert.Equal($"1 validation error detected: Value '{{{longKey}=v}}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]", key.WireMessage);
        var keys = Fail($$"""{"StreamName":"s","TagKeys":["a","{{longKey}}","b"]}""", KinesisShapes.RemoveTagsFromStream);
        Assert.Equal($"1 validation error detected: Value '[a, {longKey}, b]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]", keys.WireMessage);
    }

    [Fact]
    public void Enum_message_lists_values_in_the_captured_order()
    {
        var e = Fail("""{"StreamName":"s","ShardId":"0","ShardIteratorType":"SOMEWHERE"}""", KinesisShapes.GetShardIterator);
        Assert.Equal("1 validation error detected: Value 'SOMEWHERE' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]", e.WireMessage);
    }

    [Fact]
    public void A_null_in_a_list_of_enum_values_fails_the_enum_rule_instead_of_crashing()
    {
        // Found by the interop fuzzer: ShardLevelMetrics [null] reached GetString on a null and answered 500.
        var e = Fail("""{"StreamName":"s","ShardLevelMetrics":[null]}""", KinesisShapes.EnhancedMonitoring);
        Assert.Equal("ValidationException", e.ErrorType);
        Assert.StartsWith("1 validation error detected: Value '[null]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [", e.WireMessage);
    }

    [Theory]
    [InlineData("""{"StreamName":1}""", "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String")]
    [InlineData("""{"StreamName":true}""", "class java.lang.Boolean can not be converted to an String")]
    [InlineData("""{"StreamName":[]}""", "Start of list found where not expected")]
    [InlineData("""{"StreamName":{}}""", "Start of structure or map found where not expected.")]
    [InlineData("""{"StreamName":"s","Limit":"1"}""", "class java.lang.String can not be converted to an Integer")]
    [InlineData("""{"StreamName":"s","Limit":false}""", "class java.lang.Boolean can not be converted to an Integer")]
    public void Wrong_json_types_are_serialization_errors(string json, string message)
    {
        var e = Fail(json, KinesisShapes.DescribeStream);
        Assert.Equal("SerializationException", e.ErrorType);
        Assert.True(e.CapitalMessageField);
        Assert.Equal(message, e.WireMessage);
    }

    [Theory]
    [InlineData("23456", "'23456' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5")]
    [InlineData("=+/=", "'=+/=' can not be converted to a Blob: Invalid Base64 character: '='")]
    [InlineData("+/+=", "'+/+=' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")]
    public void Bad_base64_gets_awss_messages(string data, string message)
    {
        var e = Fail($$"""{"StreamName":"s","PartitionKey":"k","Data":"{{data}}"}""", KinesisShapes.PutRecord);
        Assert.Equal("SerializationException", e.ErrorType);
        Assert.Equal(message, e.WireMessage);
    }

    [Fact]
    public void Type_errors_win_over_constraint_errors_and_nulls_are_absent()
    {
        var e = Fail("""{"StreamName":"","Limit":"x"}""", KinesisShapes.DescribeStream);
        Assert.Equal("SerializationException", e.ErrorType);
        Pass("""{"StreamName":"s","Limit":null,"Unknown":[1,2]}""", KinesisShapes.DescribeStream);
        Pass("""{"StreamName":"s","PartitionKey":"k","Data":""}""", KinesisShapes.PutRecord);
    }

    [Fact]
    public void Non_object_bodies_are_serialization_errors()
    {
        var list = Fail("[]", KinesisShapes.ListStreams);
        Assert.Equal("Start of list found where not expected", list.WireMessage);
        var number = Fail("1", KinesisShapes.ListStreams);
        Assert.Equal("SerializationException", number.ErrorType);
        Assert.Null(number.WireMessage);
    }
}
