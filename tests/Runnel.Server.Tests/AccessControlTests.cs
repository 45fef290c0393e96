using Runnel.Server.Auth;

namespace Runnel.Server.Tests;

/// <summary>
/// IAM's evaluation as <see cref="AccessControl"/> applies it: wildcards, explicit deny winning, NotAction, resource
/// policies within an account and across accounts (both sides must allow), conditions failing closed; and AWS's
/// message for each denial.
/// </summary>
public sealed class AccessControlTests
{
    private const string Server = "000000000000";
    private const string Orders = "arn:aws:kinesis:us-east-1:000000000000:stream/orders";
    private readonly Dictionary<string, string> _resourcePolicies = [];

    private AccessControl Access() => new(Server, arn => _resourcePolicies.GetValueOrDefault(arn));

    private static Credential Key(string profile, string? policy = null, string? account = null) =>
        new("AKID" + profile.ToUpperInvariant(), "secret", account, profile, policy is null ? null : IamPolicy.Parse(policy));

    private static string Allow(string actions, string resources = "\"*\"") =>
        $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":{{actions}},"Resource":{{resources}}}]}""";

    [Theory]
    [InlineData("kinesis:Get*", "kinesis:GetRecords", true)]
    [InlineData("kinesis:get*", "kinesis:GetShardIterator", true)] // actions ignore case
    [InlineData("kinesis:Put?ecord", "kinesis:PutRecord", true)]
    [InlineData("kinesis:Put?ecord", "kinesis:PutRecords", false)]
    [InlineData("*", "firehose:PutRecord", true)]
    [InlineData("kinesis:*", "firehose:PutRecord", false)]
    public void Actions_match_with_IAMs_wildcards(string pattern, string action, bool matches) =>
        Assert.Equal(matches, Wildcard.Matches(pattern, action, ignoreCase: true));

    [Fact]
    public void A_producer_key_may_write_its_stream_and_nothing_else()
    {
        var producer = Key("producer", Allow("""["kinesis:PutRecord","kinesis:PutRecords"]""", "\"arn:aws:kinesis:*:*:stream/ord*\""));
        var access = Access();
        Assert.Null(access.Denial(producer, "kinesis:PutRecord", Orders));
        Assert.Null(access.Denial(producer, "kinesis:PutRecords", Orders));
        Assert.Equal("User: arn:aws:iam::000000000000:user/producer is not authorized to perform: kinesis:GetRecords on resource: " +
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders because no identity-based policy allows the kinesis:GetRecords action",
            access.Denial(producer, "kinesis:GetRecords", Orders));
        Assert.NotNull(access.Denial(producer, "kinesis:DeleteStream", Orders));
        Assert.NotNull(access.Denial(producer, "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:000000000000:stream/Orders")); // resources keep case
        Assert.Equal("User: arn:aws:iam::000000000000:user/producer is not authorized to perform: kinesis:ListStreams because no identity-based policy allows the kinesis:ListStreams action",
            access.Denial(producer, "kinesis:ListStreams", "*"));
    }

    [Fact]
    public void A_key_without_a_policy_may_do_anything_in_its_own_account()
    {
        Assert.Null(Access().Denial(Key("admin"), "kinesis:DeleteStream", Orders));
        Assert.Null(Access().Denial(Key("admin"), "cloudwatch:ListMetrics", "*"));
    }

    [Fact]
    public void An_explicit_deny_wins_over_any_allow_and_NotAction_excludes()
    {
        var key = Key("operator", """
            {"Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"},
                          {"Effect":"Deny","Action":"kinesis:DeleteStream","Resource":"arn:aws:kinesis:*:*:stream/*"},
                          {"Effect":"Allow","NotAction":"firehose:Delete*","Resource":"*"}]}
            """);
        var access = Access();
        Assert.Null(access.Denial(key, "kinesis:CreateStream", Orders));
        Assert.EndsWith("with an explicit deny in an identity-based policy", access.Denial(key, "kinesis:DeleteStream", Orders), StringComparison.Ordinal);
        Assert.Null(access.Denial(key, "firehose:PutRecord", "arn:aws:firehose:us-east-1:000000000000:deliverystream/d"));
        Assert.NotNull(access.Denial(key, "firehose:DeleteDeliveryStream", "arn:aws:firehose:us-east-1:000000000000:deliverystream/d"));
    }

    [Fact]
    public void Within_an_account_a_resource_policy_can_grant_and_can_deny()
    {
        var reader = Key("reader", Allow("\"kinesis:DescribeStreamSummary\""));
        var access = Access();
        Assert.NotNull(access.Denial(reader, "kinesis:GetRecords", Orders));
        _resourcePolicies[Orders] = """
            {"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/reader"},"Action":["kinesis:GetRecords","kinesis:GetShardIterator"],"Resource":"*"},
                          {"Effect":"Deny","Principal":"*","Action":"kinesis:DeleteStream","Resource":"*"}]}
            """;
        Assert.Null(access.Denial(reader, "kinesis:GetRecords", Orders));
        Assert.NotNull(access.Denial(Key("someone", Allow("\"kinesis:DescribeStreamSummary\"")), "kinesis:GetRecords", Orders)); // names reader alone
        Assert.EndsWith("with an explicit deny in a resource-based policy", Access().Denial(Key("admin"), "kinesis:DeleteStream", Orders), StringComparison.Ordinal);
    }

    [Fact]
    public void Across_accounts_both_the_key_and_the_resource_must_allow()
    {
        var partner = Key("partner", account: "111122223333");
        var access = Access();
        Assert.Equal("User: arn:aws:iam::111122223333:user/partner is not authorized to perform: kinesis:ListShards on resource: " +
            "arn:aws:kinesis:us-east-1:000000000000:stream/orders because no resource-based policy allows the kinesis:ListShards action",
            access.Denial(partner, "kinesis:ListShards", Orders));
        _resourcePolicies[Orders] = """{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kinesis:ListShards","Resource":"*"}]}""";
        Assert.Null(access.Denial(partner, "kinesis:ListShards", Orders));
        var limited = Key("limited", Allow("\"kinesis:PutRecord\""), account: "111122223333");
        Assert.EndsWith("because no identity-based policy allows the kinesis:ListShards action", access.Denial(limited, "kinesis:ListShards", Orders), StringComparison.Ordinal);
    }

    [Fact]
    public void Conditions_are_not_evaluated_so_they_never_grant_and_always_deny()
    {
        var key = Key("conditional", """
            {"Statement":[{"Effect":"Allow","Action":"kinesis:PutRecord","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
                          {"Effect":"Allow","Action":"kinesis:ListShards","Resource":"*"},
                          {"Effect":"Deny","Action":"kinesis:ListShards","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}
            """);
        Assert.NotNull(Access().Denial(key, "kinesis:PutRecord", Orders));
        Assert.NotNull(Access().Denial(key, "kinesis:ListShards", Orders));
    }

    [Fact]
    public void Policies_come_from_the_credentials_file_inline_or_from_a_file_and_a_bad_one_is_refused()
    {
        var keys = CredentialStore.Parse($"[p]\naws_access_key_id = K1\naws_secret_access_key = S1\npolicy = {Allow("\"kinesis:PutRecord\"")}\n" +
            "[q]\naws_access_key_id = K2\naws_secret_access_key = S2\npolicy_file = q.json\n[r]\naws_access_key_id = K3\naws_secret_access_key = S3\n",
            "test", file => file == "q.json" ? Allow("\"kinesis:GetRecords\"") : throw new FileNotFoundException(file));
        Assert.True(keys["K1"].Policy!.Allows("kinesis:PutRecord", Orders, null));
        Assert.False(keys["K1"].Policy!.Allows("kinesis:GetRecords", Orders, null));
        Assert.True(keys["K2"].Policy!.Allows("kinesis:GetRecords", Orders, null));
        Assert.Null(keys["K3"].Policy);
        var bad = Assert.Throws<FormatException>(() => CredentialStore.Parse("[p]\naws_access_key_id = K1\naws_secret_access_key = S1\npolicy = {\"Statement\":[{\"Action\":\"kinesis:*\"}]}\n", "creds"));
        Assert.Equal("creds: the policy of [p] is not an IAM policy: each statement needs an Effect of \"Allow\" or \"Deny\".", bad.Message);
    }
}
