namespace Runnel.Server.Tests;

/// <summary>Accounts on the cluster backend: a stream of another account created through one node is that account's
/// through the other, under its own ARN, and not the server's account's stream of the same name.</summary>
public sealed partial class ClusterServerTests
{
    [Fact(Timeout = 120000)]
    public async Task A_stream_of_another_account_is_that_accounts_on_every_node()
    {
        string dir = Path.Combine(Path.GetTempPath(), "runnel-cluster-accounts-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        string credentials = Path.Combine(dir, "credentials");
        File.WriteAllText(credentials, """
            [admin]
            aws_access_key_id = AKIDCLUSTERADMIN
            aws_secret_access_key = admin-secret
            [partner]
            aws_access_key_id = AKIDCLUSTERPARTNER
            aws_secret_access_key = partner-secret
            account_id = 444455556666
            """);
        RunnelOptions Signed(RunnelOptions o) => o with { VerifySignatures = true, CredentialsFile = credentials };
        var (a, aClient, _) = await NodeAsync(Signed);
        var (b, bClient, _) = await NodeAsync(Signed);
        string stream = ServerFixture.UniqueName("accounts");
        using var partnerA = new TestClient(a.Url, ("AKIDCLUSTERPARTNER", "partner-secret"));
        using var partnerB = new TestClient(b.Url, ("AKIDCLUSTERPARTNER", "partner-secret"));
        using var adminB = new TestClient(b.Url, ("AKIDCLUSTERADMIN", "admin-secret"));
        try
        {
            await partnerA.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
            var summary = (await partnerB.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary");
            Assert.Equal($"arn:aws:kinesis:us-east-1:444455556666:stream/{stream}", summary.GetProperty("StreamARN").GetString());
            Assert.Equal(stream, summary.GetProperty("StreamName").GetString());
            Assert.Equal($"Stream {stream} under account 000000000000 not found.",
                await adminB.ErrorMessageAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""", "ResourceNotFoundException"));
            Assert.DoesNotContain(stream, (await adminB.OkAsync("ListStreams", "{}")).GetProperty("StreamNames").EnumerateArray().Select(n => n.GetString()));
            await partnerB.OkAsync("DeleteStream", $$"""{"StreamName":"{{stream}}"}""");
        }
        finally
        {
            aClient.Dispose();
            bClient.Dispose();
            await a.DisposeAsync();
            await b.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }
}
