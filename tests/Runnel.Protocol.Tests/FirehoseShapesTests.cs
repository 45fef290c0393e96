using Runnel.Core.Errors;
using Runnel.Protocol.Firehose;
using Runnel.Protocol.Requests;
using Runnel.Protocol.Validation;
using Xunit;

namespace Runnel.Protocol.Tests;

public class FirehoseShapesTests
{
    private static KinesisException? Check(string operation, string json)
    {
        using var document = RequestDocument.ParseJson(System.Text.Encoding.UTF8.GetBytes(json));
        try
        {
            RequestValidator.Validate(document.Root, FirehoseShapes.Operations[operation]);
            return null;
        }
        catch (KinesisException e)
        {
            return e;
        }
    }

    [Fact]
    public void Every_operation_of_the_model_has_a_shape_whose_patterns_compile()
    {
        // Touching the class builds every pattern: one Java pattern .NET does not read fails here, not on a request.
        Assert.Equal(12, FirehoseShapes.Operations.Count);
        foreach (var shape in FirehoseShapes.Operations.Values)
            Assert.NotNull(shape.Members);
    }

    [Fact]
    public void A_name_too_long_and_of_bad_characters_gets_AWSs_messages()
    {
        var e = Check("DescribeDeliveryStream", $"{{\"DeliveryStreamName\":\"{new string('a', 65)}\"}}");
        Assert.Equal("ValidationException", e!.ErrorType);
        Assert.Contains("at 'deliveryStreamName' failed to satisfy constraint: Member must have length less than or equal to 64", e.WireMessage);
        e = Check("DescribeDeliveryStream", "{\"DeliveryStreamName\":\"a b\"}");
        Assert.Contains("Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", e!.WireMessage);
    }

    [Fact]
    public void Nested_members_are_checked_with_their_paths()
    {
        var e = Check("CreateDeliveryStream",
            "{\"DeliveryStreamName\":\"s\",\"ExtendedS3DestinationConfiguration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::b\",\"BufferingHints\":{\"SizeInMBs\":129,\"IntervalInSeconds\":0}}}");
        Assert.Equal("1 validation error detected: Value '129' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value less than or equal to 128", e!.WireMessage);
    }

    [Fact]
    public void A_pattern_with_a_Java_escape_of_an_underscore_accepts_what_Java_accepts()
    {
        // The VPC endpoint service name's pattern writes [a-zA-Z0-9\-\_]: Java reads \_ as '_'.
        const string good = "{\"DeliveryStreamName\":\"s\",\"HttpEndpointDestinationConfiguration\":{\"EndpointConfiguration\":{\"Url\":\"https://e\"},\"S3Configuration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::b\"}}}";
        Assert.Null(Check("CreateDeliveryStream", good));
    }

    [Fact]
    public void A_double_member_is_type_checked_and_range_checked()
    {
        string Orc(string value) => "{\"DeliveryStreamName\":\"s\",\"ExtendedS3DestinationConfiguration\":{\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::b\"," +
            "\"DataFormatConversionConfiguration\":{\"OutputFormatConfiguration\":{\"Serializer\":{\"OrcSerDe\":{\"PaddingTolerance\":" + value + "}}}}}}";
        Assert.Null(Check("CreateDeliveryStream", Orc("0.05")));
        var e = Check("CreateDeliveryStream", Orc("1.5"));
        Assert.Equal("1 validation error detected: Value '1.5' at 'extendedS3DestinationConfiguration.dataFormatConversionConfiguration.outputFormatConfiguration.serializer.orcSerDe.paddingTolerance' failed to satisfy constraint: Member must have value less than or equal to 1", e!.WireMessage);
        e = Check("CreateDeliveryStream", Orc("\"x\""));
        Assert.Equal("SerializationException", e!.ErrorType);
        Assert.Equal("class java.lang.String can not be converted to an Double", e.WireMessage);
    }

    [Fact]
    public void Over_500_records_show_as_AWS_shows_them()
    {
        string records = string.Join(",", Enumerable.Repeat("{\"Data\":\"AAAA\"}", 501));
        var e = Check("PutRecordBatch", "{\"DeliveryStreamName\":\"s\",\"Records\":[" + records + "]}");
        Assert.StartsWith("1 validation error detected: Value '[Record(data=java.nio.HeapByteBuffer[pos=0 lim=3 cap=3]), Record(", e!.WireMessage);
        Assert.EndsWith("]' at 'records' failed to satisfy constraint: Member must have length less than or equal to 500", e.WireMessage);
    }
}
