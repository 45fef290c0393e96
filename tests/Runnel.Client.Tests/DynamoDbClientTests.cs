using System.Net;
using System.Text.Json.Nodes;

namespace Runnel.Client.Tests;

/// <summary>
/// The DynamoDB client against Runnel's DynamoDB subset on the same port: a lease table made, an item put and read, a
/// conditional put that fails with ConditionalCheckFailedException, and errors in Coral's namespace reduced to the code.
/// </summary>
public sealed class DynamoDbClientTests(RunnelFixture fixture) : IClassFixture<RunnelFixture>
{
    private static JsonObject Lease(string table, string key, long counter) => new()
    {
        ["TableName"] = table,
        ["Item"] = new JsonObject
        {
            ["leaseKey"] = new JsonObject { ["S"] = key },
            ["leaseCounter"] = new JsonObject { ["N"] = counter.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        },
    };

    [Fact(Timeout = 60_000)]
    public async Task A_lease_table_is_made_written_and_a_conditional_put_is_refused()
    {
        using var client = fixture.Host.DynamoDb();
        string table = RunnelHost.UniqueName("leases");
        var created = await client.SendAsync("CreateTable", new JsonObject
        {
            ["TableName"] = table,
            ["KeySchema"] = new JsonArray(new JsonObject { ["AttributeName"] = "leaseKey", ["KeyType"] = "HASH" }),
            ["AttributeDefinitions"] = new JsonArray(new JsonObject { ["AttributeName"] = "leaseKey", ["AttributeType"] = "S" }),
            ["BillingMode"] = "PAY_PER_REQUEST",
        });
        Assert.Equal(table, (string?)created["TableDescription"]?["TableName"]);

        var put = await client.SendAsync("PutItem", Lease(table, "shardId-000000000000", 1));
        Assert.Empty(put);
        var item = await client.SendAsync("GetItem", new JsonObject
        {
            ["TableName"] = table,
            ["Key"] = new JsonObject { ["leaseKey"] = new JsonObject { ["S"] = "shardId-000000000000" } },
            ["ConsistentRead"] = true,
        });
        Assert.Equal("1", (string?)item["Item"]?["leaseCounter"]?["N"]);

        // Taking a lease that exists fails its condition, as the KCL's lease taker expects.
        var conditional = Lease(table, "shardId-000000000000", 2);
        conditional["ConditionExpression"] = "attribute_not_exists(leaseKey)";
        var refused = await Assert.ThrowsAsync<DynamoDbException>(() => client.SendAsync("PutItem", conditional));
        Assert.Equal(("ConditionalCheckFailedException", HttpStatusCode.BadRequest, false), (refused.ErrorCode, refused.StatusCode, refused.IsRetryable));
        Assert.False(string.IsNullOrEmpty(refused.RequestId));

        // The raw form: UTF-8 in, UTF-8 out.
        byte[] raw = await client.SendAsync("DescribeTable", System.Text.Encoding.UTF8.GetBytes($$"""{"TableName":"{{table}}"}"""));
        Assert.Contains("\"ACTIVE\"", System.Text.Encoding.UTF8.GetString(raw), StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<DynamoDbException>(() => client.SendAsync("DescribeTable", new JsonObject { ["TableName"] = RunnelHost.UniqueName("none") }));
        Assert.Equal("ResourceNotFoundException", missing.ErrorCode);
        var inUse = await Assert.ThrowsAsync<DynamoDbException>(() => client.SendAsync("CreateTable", new JsonObject
        {
            ["TableName"] = table,
            ["KeySchema"] = new JsonArray(new JsonObject { ["AttributeName"] = "leaseKey", ["KeyType"] = "HASH" }),
            ["AttributeDefinitions"] = new JsonArray(new JsonObject { ["AttributeName"] = "leaseKey", ["AttributeType"] = "S" }),
            ["BillingMode"] = "PAY_PER_REQUEST",
        }));
        Assert.Equal("ResourceInUseException", inUse.ErrorCode);
    }
}
