namespace Runnel.DynamoDb.Service;

/// <summary>What the DynamoDB API needs of the server's settings.</summary>
public sealed record DynamoDbOptions
{
    /// <summary>The region that ARNs name.</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>The server's account (a request signed by a key of no account acts for it).</summary>
    public string AccountId { get; init; } = "000000000000";

    /// <summary>Tables per account and region, as AWS's default quota (CreateTable beyond it: LimitExceededException).</summary>
    public int MaxTables { get; init; } = 2500;
}
