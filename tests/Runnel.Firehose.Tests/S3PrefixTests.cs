using Runnel.Firehose.Naming;

namespace Runnel.Firehose.Tests;

/// <summary>
/// Prefixes as Firehose evaluates them: AWS's documented examples (at 2018-08-27 10:30 UTC), what real AWS was seen
/// to do with a static prefix, and the rules it enforces on the pair (docs/adr/0002-firehose-delivery.md, 1.8).
/// </summary>
public class S3PrefixTests
{
    private static readonly DateTimeOffset At = new(2018, 8, 27, 10, 30, 0, TimeSpan.Zero);

    private static (string Delivered, string Failed) Evaluate(string? prefix, string? errorOutputPrefix, Func<bool, string, string>? keys = null)
    {
        var (delivered, failed) = S3Prefix.ForDestination(prefix, errorOutputPrefix);
        return (delivered.Evaluate(At, keys), failed.Evaluate(At, keys, "processing-failed"));
    }

    [Fact]
    public void Without_a_prefix_objects_go_under_the_hour()
    {
        Assert.Equal(("2018/08/27/10/", "myFirehoseFailures/processing-failed/"),
            Evaluate(null, "myFirehoseFailures/!{firehose:error-output-type}/"));
    }

    [Fact]
    public void A_static_prefix_gets_the_hour_appended_without_a_slash_as_real_AWS_does()
    {
        Assert.Equal(("legacy2018/08/27/10/", "legacyprocessing-failed/2018/08/27/10/"), Evaluate("legacy", null));
        Assert.Equal(("logs/2018/08/27/10/", "logs/processing-failed/2018/08/27/10/"), Evaluate("logs/", ""));
    }

    [Fact]
    public void Timestamps_random_strings_and_the_error_type_are_evaluated()
    {
        var (delivered, failed) = Evaluate(
            "myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}",
            "myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}");
        Assert.Matches(@"^myFirehose/DeliveredYear=2018/anyMonth/rand=[0-9a-f]{8}-[0-9a-f]{2}$", delivered);
        Assert.Equal("myFirehoseFailures/processing-failed/2018/anyMonth/27", failed);
        Assert.Equal(("myPrefix/year=2018/month=08/day=27/hour=10/", "myErrorPrefix/year=2018/month=08/day=27/hour=10/processing-failed"),
            Evaluate("myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
                "myErrorPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}"));
    }

    [Fact]
    public void Each_random_string_is_drawn_anew()
    {
        var (prefix, _) = S3Prefix.ForDestination("!{firehose:random-string}/!{firehose:random-string}/", "e/!{firehose:error-output-type}");
        string[] parts = prefix.Evaluate(At).Split('/');
        Assert.NotEqual(parts[0], parts[1]);
        Assert.NotEqual(prefix.Evaluate(At), prefix.Evaluate(At));
    }

    [Fact]
    public void Partition_keys_make_the_prefix_and_nothing_is_appended_after_them()
    {
        var (prefix, _) = S3Prefix.ForDestination("customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromLambda:device}/",
            "errors/!{firehose:error-output-type}/");
        Assert.Equal([(false, "customer_id"), (true, "device")], prefix.PartitionKeys);
        Assert.Equal("customer_id=1234567890/device=mobile/", prefix.Evaluate(At, (lambda, key) => (lambda, key) switch
        {
            (false, "customer_id") => "1234567890",
            (true, "device") => "mobile",
            _ => throw new InvalidOperationException(key),
        }));
    }

    [Theory]
    [InlineData("!{timestamp:yyyy/MM/dd}", null, "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions")]
    [InlineData("!{firehose:random-string}", "", "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions")]
    [InlineData("a/!{firehose:error-output-type}/", "e/!{firehose:error-output-type}", "Prefix cannot contain !{firehose:error-output-type}")]
    [InlineData("a/", "e/!{timestamp:yyyy}/", "ErrorOutputPrefix must contain !{firehose:error-output-type}")]
    [InlineData("a/!{partitionKeyFromQuery:k}/", "e/!{firehose:error-output-type}/!{partitionKeyFromQuery:k}", "ErrorOutputPrefix cannot contain partitionKeyFromQuery")]
    [InlineData("a/!{timestamp:yyyy", "e/", "is not closed")]
    [InlineData("a/!{foo:bar}/", "e/", "'!{foo:bar}' is not an expression Firehose evaluates")]
    [InlineData("a/!{timestamp}/", "e/", "is not a namespace and a value")]
    [InlineData("a/!{timestamp:YYYY}/", "e/", "is not a valid timestamp pattern")]
    [InlineData("a/!{partitionKeyFromQuery:}/", "e/", "is not an expression Firehose evaluates")]
    public void Pairs_AWS_refuses_are_refused_in_its_words(string prefix, string? errorOutputPrefix, string constraint)
    {
        var e = Assert.Throws<FormatException>(() => S3Prefix.ForDestination(prefix, errorOutputPrefix));
        Assert.StartsWith(S3Prefix.RefusalStart, e.Message);
        Assert.Contains(constraint, e.Message);
    }

    [Fact]
    public void The_real_message_for_a_missing_error_prefix_is_AWS_s_own()
    {
        var e = Assert.Throws<FormatException>(() => S3Prefix.ForDestination("!{timestamp:yyyy}/", null));
        Assert.Equal("Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix cannot be null or empty when Prefix contains expressions", e.Message);
    }

    [Fact]
    public void An_error_prefix_is_evaluated_only_for_a_failed_batch()
    {
        var (_, failed) = S3Prefix.ForDestination("a/", "e/!{firehose:error-output-type}/");
        Assert.Throws<InvalidOperationException>(() => failed.Evaluate(At));
    }
}
