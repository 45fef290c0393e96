using System.Text.Json;

namespace Runnel.Server.Tests;

/// <summary>PutResourcePolicy, GetResourcePolicy and DeleteResourcePolicy on stream and consumer ARNs.</summary>
public class ResourcePolicyTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Account = "000000000000";

    private static string StreamArn(string stream) => $"arn:aws:kinesis:us-east-1:{Account}:stream/{stream}";

    private const string Policy = """{"Version":"2012-10-17","Statement":[{"Sid":"read","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":["kinesis:GetRecords","kinesis:GetShardIterator"],"Resource":"*"}]}""";

    private static string Put(string arn, string policy) => JsonSerializer.Serialize(new { ResourceARN = arn, Policy = policy });

    private async Task<string> GetAsync(string arn) =>
        (await server.OkAsync("GetResourcePolicy", JsonSerializer.Serialize(new { ResourceARN = arn }))).GetProperty("Policy").GetString()!;

    [Fact(Timeout = 30000)]
    public async Task A_stream_policy_is_stored_returned_as_given_replaced_and_deleted()
    {
        string stream = await server.CreateStreamAsync("policy", 1);
        string arn = StreamArn(stream);
        Assert.Equal("{}", await GetAsync(arn)); // none attached
        await server.OkAsync("PutResourcePolicy", Put(arn, Policy));
        Assert.Equal(Policy, await GetAsync(arn));
        string single = """{"Statement":{"Effect":"Deny","Principal":"*","NotAction":"kinesis:DeleteStream"}}""";
        await server.OkAsync("PutResourcePolicy", Put(arn, single));
        Assert.Equal(single, await GetAsync(arn));
        await server.OkAsync("DeleteResourcePolicy", JsonSerializer.Serialize(new { ResourceARN = arn }));
        Assert.Equal("{}", await GetAsync(arn));
        await server.OkAsync("DeleteResourcePolicy", JsonSerializer.Serialize(new { ResourceARN = arn })); // nothing to delete: still fine

        // The policy goes with its stream: a stream created again under the name has none.
        await server.OkAsync("PutResourcePolicy", Put(arn, Policy));
        await server.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""");
        await server.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
        Assert.Equal("{}", await GetAsync(arn));
    }

    [Fact(Timeout = 30000)]
    public async Task A_consumer_has_a_policy_of_its_own()
    {
        string stream = await server.CreateStreamAsync("cpolicy", 1);
        string consumerArn = (await server.OkAsync("RegisterStreamConsumer", $$"""{"StreamARN":"{{StreamArn(stream)}}","ConsumerName":"reader"}"""))
            .GetProperty("Consumer").GetProperty("ConsumerARN").GetString()!;
        await server.OkAsync("PutResourcePolicy", Put(consumerArn, Policy));
        Assert.Equal(Policy, await GetAsync(consumerArn));
        Assert.Equal("{}", await GetAsync(StreamArn(stream)));
        await server.OkAsync("DeleteResourcePolicy", JsonSerializer.Serialize(new { ResourceARN = consumerArn }));
        Assert.Equal("{}", await GetAsync(consumerArn));
        string gone = consumerArn[..consumerArn.LastIndexOf(':')] + ":1";
        Assert.Equal($"Consumer reader with creation timestamp 1 under stream {stream} and account {Account} not found.",
            await server.ErrorMessageAsync("GetResourcePolicy", JsonSerializer.Serialize(new { ResourceARN = gone }), "ResourceNotFoundException"));
    }

    [Theory(Timeout = 30000)]
    [InlineData("not json", "the policy is not JSON")]
    [InlineData("[]", "the policy must be a JSON object")]
    [InlineData("""{"Version":"2012-10-17"}""", "the policy has no Statement")]
    [InlineData("""{"Statement":[]}""", "Statement is empty")]
    [InlineData("""{"Version":"2020-01-01","Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:*"}}""", "Version must be")]
    [InlineData("""{"Statement":{"Effect":"Maybe","Principal":"*","Action":"kinesis:*"}}""", "Effect of \"Allow\" or \"Deny\"")]
    [InlineData("""{"Statement":{"Effect":"Allow","Action":"kinesis:*"}}""", "exactly one of Principal and NotPrincipal")]
    [InlineData("""{"Statement":{"Effect":"Allow","Principal":"*"}}""", "exactly one of Action and NotAction")]
    [InlineData("""{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}}""", "action 's3:GetObject' is not a Kinesis action")]
    [InlineData("""{"Statement":{"Effect":"Allow","Principal":"*","Action":[]}}""", "Action must be a string or a list of strings")]
    [InlineData("""{"Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:*","Extra":1}}""", "unsupported element 'Extra' in a statement")]
    [InlineData("""{"Policy":1,"Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:*"}}""", "unsupported element 'Policy'")]
    public async Task A_policy_that_is_not_an_IAM_document_is_refused_with_what_is_wrong(string policy, string problem)
    {
        string stream = await server.CreateStreamAsync("badpolicy", 1);
        string message = await server.ErrorMessageAsync("PutResourcePolicy", Put(StreamArn(stream), policy), "InvalidArgumentException");
        Assert.StartsWith("Invalid policy document: ", message, StringComparison.Ordinal);
        Assert.Contains(problem, message, StringComparison.Ordinal);
        Assert.Equal("{}", await GetAsync(StreamArn(stream)));
    }

    [Fact(Timeout = 30000)]
    public async Task The_resource_must_exist_and_the_request_must_fit_the_model()
    {
        Assert.Equal($"Stream nosuch under account {Account} not found.",
            await server.ErrorMessageAsync("PutResourcePolicy", Put(StreamArn("nosuch"), Policy), "ResourceNotFoundException"));
        Assert.Equal("2 validation errors detected: Value null at 'resourceARN' failed to satisfy constraint: Member must not be null; Value null at 'policy' failed to satisfy constraint: Member must not be null",
            await server.ErrorMessageAsync("PutResourcePolicy", "{}", "ValidationException"));
        Assert.Contains("Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+",
            await server.ErrorMessageAsync("GetResourcePolicy", """{"ResourceARN":"arn:aws:s3:::bucket"}""", "ValidationException"), StringComparison.Ordinal);
        string big = """{"Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:*","Sid":"___"}}""".Replace("___", new string('x', 21_000), StringComparison.Ordinal);
        string stream = await server.CreateStreamAsync("bigpolicy", 1);
        Assert.Equal("Invalid policy document: the policy is larger than 20480 bytes.", await server.ErrorMessageAsync("PutResourcePolicy", Put(StreamArn(stream), big), "InvalidArgumentException"));
    }
}
