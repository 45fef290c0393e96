using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace Runnel.Server.Tests;

/// <summary>
/// The DynamoDB API through the real HTTP endpoint, driven by the AWS SDK for .NET's AmazonDynamoDBClient: every
/// operation, the KCL's lease-table calls (legacy Expected and AttributeUpdates, a GSI query), and AWS's errors for
/// failed conditions, missing tables and bad keys. Each test uses tables of its own names.
/// </summary>
public sealed class DynamoDbServerTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly AmazonDynamoDBClient _client = Client(fixture.Server.Url, "test", "test");

    public void Dispose() => _client.Dispose();

    internal static AmazonDynamoDBClient Client(Uri url, string key, string secret) =>
        new(new BasicAWSCredentials(key, secret), new AmazonDynamoDBConfig { ServiceURL = url.ToString(), AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });

    private static AttributeValue S(string s) => new() { S = s };

    private static AttributeValue N(string n) => new() { N = n };

    /// <summary>A lease table as the KCL makes one: leaseKey HASH, on demand, with the leaseOwner index of KCL 3.</summary>
    internal static async Task<string> CreateLeaseTableAsync(AmazonDynamoDBClient client, string prefix = "leases")
    {
        string name = ServerFixture.UniqueName(prefix);
        await client.CreateTableAsync(new CreateTableRequest
        {
            TableName = name,
            AttributeDefinitions = [new("leaseKey", ScalarAttributeType.S), new("leaseOwner", ScalarAttributeType.S)],
            KeySchema = [new("leaseKey", KeyType.HASH)],
            BillingMode = BillingMode.PAY_PER_REQUEST,
            GlobalSecondaryIndexes =
            [
                new GlobalSecondaryIndex { IndexName = "LeaseOwnerToLeaseKeyIndex", KeySchema = [new("leaseOwner", KeyType.HASH)], Projection = new Projection { ProjectionType = ProjectionType.KEYS_ONLY } },
            ],
        });
        return name;
    }

    [Fact(Timeout = 60000)]
    public async Task Tables_are_created_described_listed_updated_backed_up_and_deleted()
    {
        string name = await CreateLeaseTableAsync(_client);
        var description = (await _client.DescribeTableAsync(name)).Table;
        Assert.Equal(TableStatus.ACTIVE, description.TableStatus);
        Assert.Equal($"arn:aws:dynamodb:us-east-1:000000000000:table/{name}", description.TableArn);
        Assert.Equal(BillingMode.PAY_PER_REQUEST, description.BillingModeSummary.BillingMode);
        Assert.Equal("LeaseOwnerToLeaseKeyIndex", Assert.Single(description.GlobalSecondaryIndexes).IndexName);
        Assert.Equal(IndexStatus.ACTIVE, description.GlobalSecondaryIndexes[0].IndexStatus);
        Assert.Contains(name, (await _client.ListTablesAsync(new ListTablesRequest())).TableNames);

        var exists = await Assert.ThrowsAsync<ResourceInUseException>(() => _client.CreateTableAsync(new CreateTableRequest
        {
            TableName = name,
            AttributeDefinitions = [new("leaseKey", ScalarAttributeType.S)],
            KeySchema = [new("leaseKey", KeyType.HASH)],
            BillingMode = BillingMode.PAY_PER_REQUEST,
        }));
        Assert.Equal($"Table already exists: {name}", exists.Message);

        var updated = (await _client.UpdateTableAsync(new UpdateTableRequest
        {
            TableName = name,
            BillingMode = BillingMode.PROVISIONED,
            ProvisionedThroughput = new ProvisionedThroughput(7, 3),
            GlobalSecondaryIndexUpdates = [new GlobalSecondaryIndexUpdate { Update = new UpdateGlobalSecondaryIndexAction { IndexName = "LeaseOwnerToLeaseKeyIndex", ProvisionedThroughput = new ProvisionedThroughput(2, 2) } }],
        })).TableDescription;
        Assert.Equal((7L, 3L), (updated.ProvisionedThroughput.ReadCapacityUnits!.Value, updated.ProvisionedThroughput.WriteCapacityUnits!.Value));

        var backups = (await _client.UpdateContinuousBackupsAsync(new UpdateContinuousBackupsRequest
        {
            TableName = name,
            PointInTimeRecoverySpecification = new PointInTimeRecoverySpecification { PointInTimeRecoveryEnabled = true },
        })).ContinuousBackupsDescription;
        Assert.Equal(PointInTimeRecoveryStatus.ENABLED, backups.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus);
        var missing = await Assert.ThrowsAsync<TableNotFoundException>(() => _client.UpdateContinuousBackupsAsync(new UpdateContinuousBackupsRequest
        {
            TableName = name + "-none",
            PointInTimeRecoverySpecification = new PointInTimeRecoverySpecification { PointInTimeRecoveryEnabled = true },
        }));
        Assert.Equal($"Table not found: {name}-none", missing.Message);

        Assert.Equal(TableStatus.DELETING, (await _client.DeleteTableAsync(name)).TableDescription.TableStatus);
        var gone = await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeTableAsync(name));
        Assert.Equal($"Requested resource not found: Table: {name} not found", gone.Message);
    }

    [Fact(Timeout = 60000)]
    public async Task A_provisioned_table_echoes_its_throughput_and_a_GSI_is_added_by_UpdateTable()
    {
        string name = ServerFixture.UniqueName("provisioned");
        var created = (await _client.CreateTableAsync(new CreateTableRequest
        {
            TableName = name,
            AttributeDefinitions = [new("id", ScalarAttributeType.S), new("at", ScalarAttributeType.N)],
            KeySchema = [new("id", KeyType.HASH), new("at", KeyType.RANGE)],
            ProvisionedThroughput = new ProvisionedThroughput(5, 6),
        })).TableDescription;
        Assert.Equal((5L, 6L), (created.ProvisionedThroughput.ReadCapacityUnits!.Value, created.ProvisionedThroughput.WriteCapacityUnits!.Value));
        Assert.Equal(TableStatus.ACTIVE, created.TableStatus);
        var withIndex = (await _client.UpdateTableAsync(new UpdateTableRequest
        {
            TableName = name,
            AttributeDefinitions = [new("owner", ScalarAttributeType.S)],
            GlobalSecondaryIndexUpdates = [new GlobalSecondaryIndexUpdate
            {
                Create = new CreateGlobalSecondaryIndexAction { IndexName = "byOwner", KeySchema = [new("owner", KeyType.HASH)], Projection = new Projection { ProjectionType = ProjectionType.ALL }, ProvisionedThroughput = new ProvisionedThroughput(1, 1) },
            }],
        })).TableDescription;
        Assert.Equal("byOwner", Assert.Single(withIndex.GlobalSecondaryIndexes).IndexName);
        var invalid = await Assert.ThrowsAsync<AmazonDynamoDBException>(() => _client.CreateTableAsync(new CreateTableRequest
        {
            TableName = name + "-bad",
            AttributeDefinitions = [new("id", ScalarAttributeType.S)],
            KeySchema = [new("id", KeyType.HASH)],
        }));
        Assert.Equal("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED", invalid.Message);
        await _client.DeleteTableAsync(name);
    }

    [Fact(Timeout = 60000)]
    public async Task Lease_items_are_taken_renewed_and_lost_with_legacy_conditions_as_the_KCL_does()
    {
        string table = await CreateLeaseTableAsync(_client);
        var key = new Dictionary<string, AttributeValue> { ["leaseKey"] = S("shardId-000000000000") };
        // createLeaseIfNotExists
        await _client.PutItemAsync(new PutItemRequest
        {
            TableName = table,
            Item = new() { ["leaseKey"] = S("shardId-000000000000"), ["leaseCounter"] = N("0"), ["checkpoint"] = S("TRIM_HORIZON"), ["ownerSwitchesSinceCheckpoint"] = N("0") },
            Expected = new() { ["leaseKey"] = new ExpectedAttributeValue { Exists = false } },
        });
        var again = await Assert.ThrowsAsync<ConditionalCheckFailedException>(() => _client.PutItemAsync(new PutItemRequest
        {
            TableName = table,
            Item = new() { ["leaseKey"] = S("shardId-000000000000") },
            Expected = new() { ["leaseKey"] = new ExpectedAttributeValue { Exists = false } },
        }));
        Assert.Equal("The conditional request failed", again.Message);
        // takeLease: the counter as read, the owner set, the switches counted
        var taken = await _client.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = table,
            Key = key,
            Expected = new() { ["leaseCounter"] = new ExpectedAttributeValue(N("0")) },
            AttributeUpdates = new()
            {
                ["leaseOwner"] = new AttributeValueUpdate(S("worker-a"), AttributeAction.PUT),
                ["leaseCounter"] = new AttributeValueUpdate(N("1"), AttributeAction.PUT),
                ["ownerSwitchesSinceCheckpoint"] = new AttributeValueUpdate(N("1"), AttributeAction.ADD),
            },
            ReturnValues = ReturnValue.ALL_NEW,
        });
        Assert.Equal("worker-a", taken.Attributes["leaseOwner"].S);
        Assert.Equal("1", taken.Attributes["ownerSwitchesSinceCheckpoint"].N);
        // a stale renewal fails, with the item when asked for it
        var stale = await Assert.ThrowsAsync<ConditionalCheckFailedException>(() => _client.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = table,
            Key = key,
            ConditionExpression = "leaseCounter = :c",
            UpdateExpression = "SET leaseCounter = leaseCounter + :one",
            ExpressionAttributeValues = new() { [":c"] = N("0"), [":one"] = N("1") },
            ReturnValuesOnConditionCheckFailure = ReturnValuesOnConditionCheckFailure.ALL_OLD,
        }));
        Assert.Equal("1", stale.Item["leaseCounter"].N);
        var renewed = await _client.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = table,
            Key = key,
            ConditionExpression = "leaseCounter = :c AND leaseOwner = :o",
            UpdateExpression = "SET leaseCounter = leaseCounter + :one, checkpoint = :cp REMOVE pendingCheckpoint",
            ExpressionAttributeValues = new() { [":c"] = N("1"), [":o"] = S("worker-a"), [":one"] = N("1"), [":cp"] = S("49590338271490256608559692538361571095921575989136588898") },
            ReturnValues = ReturnValue.UPDATED_NEW,
        });
        Assert.Equal(["checkpoint", "leaseCounter"], renewed.Attributes.Keys.Order());
        var read = await _client.GetItemAsync(new GetItemRequest { TableName = table, Key = key, ConsistentRead = true, ProjectionExpression = "leaseOwner, #c", ExpressionAttributeNames = new() { ["#c"] = "checkpoint" } });
        Assert.Equal(["checkpoint", "leaseOwner"], read.Item.Keys.Order());
        // evictLease removes the owner; deleteLease needs the owner it read
        await _client.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = table,
            Key = key,
            Expected = new() { ["leaseOwner"] = new ExpectedAttributeValue(S("worker-a")) },
            AttributeUpdates = new() { ["leaseOwner"] = new AttributeValueUpdate { Action = AttributeAction.DELETE } },
        });
        await Assert.ThrowsAsync<ConditionalCheckFailedException>(() => _client.DeleteItemAsync(new DeleteItemRequest
        {
            TableName = table,
            Key = key,
            Expected = new() { ["leaseOwner"] = new ExpectedAttributeValue(S("worker-a")) },
        }));
        var deleted = await _client.DeleteItemAsync(new DeleteItemRequest { TableName = table, Key = key, ConditionExpression = "attribute_not_exists(leaseOwner)", ReturnValues = ReturnValue.ALL_OLD });
        Assert.Equal("2", deleted.Attributes["leaseCounter"].N);
        Assert.False((await _client.GetItemAsync(table, key)).IsItemSet);
        await _client.DeleteTableAsync(table);
    }

    [Fact(Timeout = 60000)]
    public async Task Query_through_the_index_and_Scan_page_and_filter()
    {
        string table = await CreateLeaseTableAsync(_client);
        var writes = Enumerable.Range(0, 10).Select(i => new WriteRequest(new PutRequest(new()
        {
            ["leaseKey"] = S($"shardId-{i:D12}"),
            ["leaseOwner"] = S(i % 2 == 0 ? "even" : "odd"),
            ["leaseCounter"] = N(i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        }))).ToList();
        Assert.Empty((await _client.BatchWriteItemAsync(new BatchWriteItemRequest { RequestItems = new() { [table] = writes } })).UnprocessedItems);

        var owned = await _client.QueryAsync(new QueryRequest
        {
            TableName = table,
            IndexName = "LeaseOwnerToLeaseKeyIndex",
            KeyConditionExpression = "leaseOwner = :o",
            ExpressionAttributeValues = new() { [":o"] = S("even") },
        });
        Assert.Equal(5, owned.Count);
        Assert.All(owned.Items, i => Assert.Equal(["leaseKey", "leaseOwner"], i.Keys.Order())); // KEYS_ONLY
        var count = await _client.QueryAsync(new QueryRequest
        {
            TableName = table,
            IndexName = "LeaseOwnerToLeaseKeyIndex",
            KeyConditions = new() { ["leaseOwner"] = new Condition { ComparisonOperator = ComparisonOperator.EQ, AttributeValueList = [S("odd")] } },
            Select = Select.COUNT,
        });
        Assert.Equal(5, count.Count);

        var seen = new List<string>();
        Dictionary<string, AttributeValue>? start = null;
        int pages = 0;
        do
        {
            var page = await _client.ScanAsync(new ScanRequest { TableName = table, Limit = 3, ExclusiveStartKey = start, FilterExpression = "leaseCounter >= :five", ExpressionAttributeValues = new() { [":five"] = N("5") } });
            seen.AddRange(page.Items.Select(i => i["leaseKey"].S));
            start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
            pages++;
        }
        while (start is not null);
        Assert.Equal(Enumerable.Range(5, 5).Select(i => $"shardId-{i:D12}"), seen.Order());
        Assert.Equal(4, pages);

        var batch = await _client.BatchGetItemAsync(new BatchGetItemRequest
        {
            RequestItems = new() { [table] = new KeysAndAttributes { Keys = [new() { ["leaseKey"] = S("shardId-000000000001") }, new() { ["leaseKey"] = S("shardId-000000000099") }] } },
        });
        Assert.Equal("odd", Assert.Single(batch.Responses[table])["leaseOwner"].S);
        await _client.DeleteTableAsync(table);
    }

    [Fact(Timeout = 60000)]
    public async Task A_range_key_query_goes_both_ways_and_pages()
    {
        string table = ServerFixture.UniqueName("events");
        await _client.CreateTableAsync(new CreateTableRequest
        {
            TableName = table,
            AttributeDefinitions = [new("id", ScalarAttributeType.S), new("seq", ScalarAttributeType.N)],
            KeySchema = [new("id", KeyType.HASH), new("seq", KeyType.RANGE)],
            BillingMode = BillingMode.PAY_PER_REQUEST,
        });
        foreach (int at in new[] { 10, 9, 100, 1, 55 })
            await _client.PutItemAsync(table, new() { ["id"] = S("a"), ["seq"] = N(at.ToString(System.Globalization.CultureInfo.InvariantCulture)) });
        await _client.PutItemAsync(table, new() { ["id"] = S("b"), ["seq"] = N("5") });
        async Task<List<string>> All(bool forward, string condition)
        {
            var found = new List<string>();
            Dictionary<string, AttributeValue>? start = null;
            do
            {
                var page = await _client.QueryAsync(new QueryRequest
                {
                    TableName = table,
                    KeyConditionExpression = condition,
                    ScanIndexForward = forward,
                    Limit = 2,
                    ExclusiveStartKey = start,
                    ExpressionAttributeValues = new Dictionary<string, AttributeValue> { [":id"] = S("a"), [":lo"] = N("9"), [":hi"] = N("60") }.Where(v => condition.Contains(v.Key, StringComparison.Ordinal)).ToDictionary(),
                });
                found.AddRange(page.Items.Select(i => i["seq"].N));
                start = page.LastEvaluatedKey is { Count: > 0 } last ? last : null;
            }
            while (start is not null);
            return found;
        }
        Assert.Equal(["1", "9", "10", "55", "100"], await All(true, "id = :id"));
        Assert.Equal(["100", "55", "10", "9", "1"], await All(false, "id = :id"));
        Assert.Equal(["9", "10", "55"], await All(true, "id = :id AND seq BETWEEN :lo AND :hi"));
        var missed = await Assert.ThrowsAsync<AmazonDynamoDBException>(() => _client.QueryAsync(new QueryRequest
        {
            TableName = table,
            KeyConditionExpression = "seq > :lo",
            ExpressionAttributeValues = new() { [":lo"] = N("9") },
        }));
        Assert.Equal("Query condition missed key schema element: id", missed.Message);
        await _client.DeleteTableAsync(table);
    }

    [Fact(Timeout = 60000)]
    public async Task Transactions_write_all_or_nothing_and_say_why_they_were_cancelled()
    {
        string table = await CreateLeaseTableAsync(_client);
        await _client.TransactWriteItemsAsync(new TransactWriteItemsRequest
        {
            TransactItems =
            [
                new() { Put = new Put { TableName = table, Item = new() { ["leaseKey"] = S("a"), ["n"] = N("1") }, ConditionExpression = "attribute_not_exists(leaseKey)" } },
                new() { Put = new Put { TableName = table, Item = new() { ["leaseKey"] = S("b"), ["n"] = N("1") } } },
            ],
        });
        var cancelled = await Assert.ThrowsAsync<TransactionCanceledException>(() => _client.TransactWriteItemsAsync(new TransactWriteItemsRequest
        {
            TransactItems =
            [
                new() { Update = new Update { TableName = table, Key = new() { ["leaseKey"] = S("a") }, UpdateExpression = "SET n = n + :one", ExpressionAttributeValues = new() { [":one"] = N("1") } } },
                new() { ConditionCheck = new ConditionCheck { TableName = table, Key = new() { ["leaseKey"] = S("b") }, ConditionExpression = "n = :two", ExpressionAttributeValues = new() { [":two"] = N("2") } } },
                new() { Delete = new Delete { TableName = table, Key = new() { ["leaseKey"] = S("c") } } },
            ],
        }));
        Assert.Equal("Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, None]", cancelled.Message);
        Assert.Equal(["None", "ConditionalCheckFailed", "None"], cancelled.CancellationReasons.Select(r => r.Code));
        Assert.Equal("1", (await _client.GetItemAsync(table, new() { ["leaseKey"] = S("a") })).Item["n"].N); // nothing written
        var got = await _client.TransactGetItemsAsync(new TransactGetItemsRequest
        {
            TransactItems = [new() { Get = new Get { TableName = table, Key = new() { ["leaseKey"] = S("a") } } }, new() { Get = new Get { TableName = table, Key = new() { ["leaseKey"] = S("z") } } }],
        });
        Assert.Equal("1", got.Responses[0].Item["n"].N);
        Assert.True(got.Responses[1].Item is null or { Count: 0 });
        await _client.DeleteTableAsync(table);
    }

    [Fact(Timeout = 60000)]
    public async Task AWS_errors_for_missing_tables_bad_keys_and_bad_expressions()
    {
        string table = await CreateLeaseTableAsync(_client);
        var missing = await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.GetItemAsync(table + "-none", new() { ["leaseKey"] = S("a") }));
        Assert.Equal("Requested resource not found", missing.Message);
        var badKey = await Assert.ThrowsAsync<AmazonDynamoDBException>(() => _client.GetItemAsync(table, new() { ["leaseKey"] = N("1") }));
        Assert.Equal(("ValidationException", "The provided key element does not match the schema"), (badKey.ErrorCode, badKey.Message));
        var noKey = await Assert.ThrowsAsync<AmazonDynamoDBException>(() => _client.PutItemAsync(table, new() { ["other"] = S("x") }));
        Assert.Equal("One or more parameter values were invalid: Missing the key leaseKey in the item", noKey.Message);
        var keyUpdate = await Assert.ThrowsAsync<AmazonDynamoDBException>(() => _client.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = table,
            Key = new() { ["leaseKey"] = S("a") },
            UpdateExpression = "SET leaseKey = :v",
            ExpressionAttributeValues = new() { [":v"] = S("b") },
        }));
        Assert.Equal("One or more parameter values were invalid: Cannot update attribute leaseKey. This attribute is part of the key", keyUpdate.Message);
        var reserved = await Assert.ThrowsAsync<AmazonDynamoDBException>(() => _client.UpdateItemAsync(new UpdateItemRequest
        {
            TableName = table,
            Key = new() { ["leaseKey"] = S("a") },
            UpdateExpression = "SET status = :v",
            ExpressionAttributeValues = new() { [":v"] = S("b") },
        }));
        Assert.Equal("Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status", reserved.Message);
        var mixed = await Assert.ThrowsAsync<AmazonDynamoDBException>(() => _client.PutItemAsync(new PutItemRequest
        {
            TableName = table,
            Item = new() { ["leaseKey"] = S("a") },
            ConditionExpression = "attribute_not_exists(leaseKey)",
            Expected = new() { ["leaseKey"] = new ExpectedAttributeValue { Exists = false } },
        }));
        Assert.Equal("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}", mixed.Message);
        await _client.DeleteTableAsync(table);
    }

    [Fact(Timeout = 60000)]
    public async Task Conditional_writes_racing_on_one_item_each_win_once()
    {
        string table = await CreateLeaseTableAsync(_client);
        var key = new Dictionary<string, AttributeValue> { ["leaseKey"] = S("counter") };
        await _client.PutItemAsync(table, new() { ["leaseKey"] = S("counter"), ["n"] = N("0") });
        const int Writers = 8, Adds = 10;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(async _ =>
        {
            using var client = Client(fixture.Server.Url, "test", "test");
            for (int done = 0; done < Adds;)
            {
                string n = (await client.GetItemAsync(new GetItemRequest { TableName = table, Key = key, ConsistentRead = true })).Item["n"].N;
                try
                {
                    await client.UpdateItemAsync(new UpdateItemRequest
                    {
                        TableName = table,
                        Key = key,
                        ConditionExpression = "n = :n",
                        UpdateExpression = "SET n = :next",
                        ExpressionAttributeValues = new() { [":n"] = N(n), [":next"] = N((int.Parse(n, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)) },
                    });
                    done++;
                }
                catch (ConditionalCheckFailedException)
                {
                }
            }
        }));
        Assert.Equal((Writers * Adds).ToString(System.Globalization.CultureInfo.InvariantCulture), (await _client.GetItemAsync(table, key)).Item["n"].N);
        await _client.DeleteTableAsync(table);
    }
}
