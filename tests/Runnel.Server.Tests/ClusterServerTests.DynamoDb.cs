using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;

namespace Runnel.Server.Tests;

/// <summary>DynamoDB on the cluster backend: tables and items are metadata documents in JetStream, so every node serves
/// one state, and a conditional write is a compare-and-set there, so two nodes racing on one item never both win.</summary>
public sealed partial class ClusterServerTests
{
    [Fact(Timeout = 120000)]
    public async Task A_DynamoDB_table_and_items_made_through_one_node_are_served_by_the_other_and_conditional_races_have_one_winner()
    {
        await using var nodes = await TwoNodesAsync();
        using var a = DynamoDbServerTests.Client(nodes.A.Http.BaseAddress!, "test", "test");
        using var b = DynamoDbServerTests.Client(nodes.B.Http.BaseAddress!, "test", "test");
        string table = await DynamoDbServerTests.CreateLeaseTableAsync(a, "cluster-leases");
        Assert.Equal(TableStatus.ACTIVE, (await b.DescribeTableAsync(table)).Table.TableStatus);
        Assert.Contains(table, (await b.ListTablesAsync(new ListTablesRequest())).TableNames);

        await a.PutItemAsync(table, new() { ["leaseKey"] = new() { S = "shardId-000000000000" }, ["leaseOwner"] = new() { S = "worker-a" }, ["leaseCounter"] = new() { N = "1" } });
        var read = await b.GetItemAsync(new GetItemRequest { TableName = table, Key = new() { ["leaseKey"] = new() { S = "shardId-000000000000" } }, ConsistentRead = true });
        Assert.Equal("worker-a", read.Item["leaseOwner"].S);
        var owned = await b.QueryAsync(new QueryRequest
        {
            TableName = table,
            IndexName = "LeaseOwnerToLeaseKeyIndex",
            KeyConditionExpression = "leaseOwner = :o",
            ExpressionAttributeValues = new() { [":o"] = new() { S = "worker-a" } },
        });
        Assert.Equal("shardId-000000000000", Assert.Single(owned.Items)["leaseKey"].S);

        // Each round, both nodes try to create the same lease and to take the same counter: exactly one of each wins.
        for (int round = 0; round < 10; round++)
        {
            string shard = $"shardId-{round + 1:D12}";
            async Task<bool> Create(AmazonDynamoDBClient client, string owner)
            {
                try
                {
                    await client.PutItemAsync(new PutItemRequest
                    {
                        TableName = table,
                        Item = new() { ["leaseKey"] = new() { S = shard }, ["leaseOwner"] = new() { S = owner }, ["leaseCounter"] = new() { N = "0" } },
                        Expected = new() { ["leaseKey"] = new ExpectedAttributeValue { Exists = false } },
                    });
                    return true;
                }
                catch (ConditionalCheckFailedException)
                {
                    return false;
                }
            }
            async Task<bool> Take(AmazonDynamoDBClient client, string owner)
            {
                try
                {
                    await client.UpdateItemAsync(new UpdateItemRequest
                    {
                        TableName = table,
                        Key = new() { ["leaseKey"] = new() { S = shard } },
                        ConditionExpression = "leaseCounter = :seen",
                        UpdateExpression = "SET leaseCounter = leaseCounter + :one, leaseOwner = :owner",
                        ExpressionAttributeValues = new() { [":seen"] = new() { N = "0" }, [":one"] = new() { N = "1" }, [":owner"] = new() { S = owner } },
                    });
                    return true;
                }
                catch (ConditionalCheckFailedException)
                {
                    return false;
                }
            }
            var created = await Task.WhenAll(Create(a, "worker-a"), Create(b, "worker-b"));
            Assert.Single(created, won => won);
            var taken = await Task.WhenAll(Take(a, "taker-a"), Take(b, "taker-b"));
            Assert.Single(taken, won => won);
            var lease = (await a.GetItemAsync(new GetItemRequest { TableName = table, Key = new() { ["leaseKey"] = new() { S = shard } }, ConsistentRead = true })).Item;
            Assert.Equal("1", lease["leaseCounter"].N);
            Assert.Equal(taken[0] ? "taker-a" : "taker-b", lease["leaseOwner"].S);
        }
        Assert.Equal(11, (await b.ScanAsync(new ScanRequest { TableName = table, ConsistentRead = true })).Count);
        await b.DeleteTableAsync(table);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => a.DescribeTableAsync(table));
    }
}
