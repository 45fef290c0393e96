using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Runnel.Server.Tests;

/// <summary>
/// DynamoDB behind <c>--auth sigv4</c>: signatures verified as for Kinesis, each table an operation names checked
/// against the key's IAM policy (<c>dynamodb:OPERATION</c> on <c>arn:aws:dynamodb:REGION:ACCOUNT:table/NAME</c>), and a key
/// of another account working on tables of its own.
/// </summary>
public sealed class DynamoDbAccessTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-dynamodb-access-" + Guid.NewGuid().ToString("N"));
    private RestartableServer _host = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "reader.json"), """
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:*:*:table/leases*"}]}
            """);
        string credentials = Path.Combine(_dir, "credentials");
        File.WriteAllText(credentials, """
            [admin]
            aws_access_key_id = AKIDADMIN
            aws_secret_access_key = admin-secret
            [reader]
            aws_access_key_id = AKIDREADER
            aws_secret_access_key = reader-secret
            policy_file = reader.json
            [partner]
            aws_access_key_id = AKIDPARTNER
            aws_secret_access_key = partner-secret
            account_id = 111122223333
            """);
        _host = new RestartableServer(Path.Combine(_dir, "data"), TimeProvider.System,
            new RunnelOptions { Limits = new() { Enabled = false }, VerifySignatures = true, CredentialsFile = credentials });
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact(Timeout = 60000)]
    public async Task Keys_do_what_their_policies_allow_on_the_tables_of_their_account()
    {
        using var admin = DynamoDbServerTests.Client(_host.Server.Url, "AKIDADMIN", "admin-secret");
        using var reader = DynamoDbServerTests.Client(_host.Server.Url, "AKIDREADER", "reader-secret");
        using var partner = DynamoDbServerTests.Client(_host.Server.Url, "AKIDPARTNER", "partner-secret");
        using var forger = DynamoDbServerTests.Client(_host.Server.Url, "AKIDADMIN", "wrong-secret");
        using var stranger = DynamoDbServerTests.Client(_host.Server.Url, "AKIDNOBODY", "secret");
        string table = await DynamoDbServerTests.CreateLeaseTableAsync(admin);
        var key = new Dictionary<string, AttributeValue> { ["leaseKey"] = new() { S = "shardId-000000000000" } };
        await admin.PutItemAsync(table, new(key) { ["leaseOwner"] = new() { S = "w" } });

        Assert.Equal("w", (await reader.GetItemAsync(table, key)).Item["leaseOwner"].S);
        var denied = await Assert.ThrowsAsync<AmazonDynamoDBException>(() => reader.PutItemAsync(table, key));
        Assert.Equal("AccessDeniedException", denied.ErrorCode);
        Assert.Equal($"User: arn:aws:iam::000000000000:user/reader is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/{table} because no identity-based policy allows the dynamodb:PutItem action", denied.Message);
        Assert.Equal("AccessDeniedException", (await Assert.ThrowsAsync<AmazonDynamoDBException>(() => reader.ListTablesAsync(new ListTablesRequest()))).ErrorCode);
        Assert.Equal("InvalidSignatureException", (await Assert.ThrowsAsync<AmazonDynamoDBException>(() => forger.GetItemAsync(table, key))).ErrorCode);
        Assert.Equal("UnrecognizedClientException", (await Assert.ThrowsAsync<AmazonDynamoDBException>(() => stranger.GetItemAsync(table, key))).ErrorCode);

        // Another account has tables of its own: the server account's table is not among them, and the same name is free.
        Assert.DoesNotContain(table, (await partner.ListTablesAsync(new ListTablesRequest())).TableNames);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => partner.GetItemAsync(table, key));
        await DynamoDbServerTests.CreateLeaseTableAsync(partner);
        var partnerTable = Assert.Single((await partner.ListTablesAsync(new ListTablesRequest())).TableNames);
        Assert.StartsWith("arn:aws:dynamodb:us-east-1:111122223333:table/", (await partner.DescribeTableAsync(partnerTable)).Table.TableArn);
    }
}
