using System.Text.Json;
using Runnel.DynamoDb.Service;

namespace Runnel.DynamoDb.Api;

/// <summary>
/// The DynamoDB operations (target prefix <see cref="TargetPrefix"/>, JSON 1.0) and their handlers. The server's
/// endpoint does the envelope (method, content type, target, body, authentication and authorization) and hands the
/// parsed body here. Thread-safe: immutable after construction.
/// </summary>
public sealed class DynamoDbApi(DynamoDbService service)
{
    public const string TargetPrefix = "DynamoDB_20120810";

    /// <summary>The media type of requests and answers (AWS JSON 1.0).</summary>
    public const string MediaType = "application/x-amz-json-1.0";

    private static readonly Dictionary<string, Action<DynamoDbRequest>> Handlers = new(StringComparer.Ordinal)
    {
        ["CreateTable"] = TableOperations.Create,
        ["DescribeTable"] = TableOperations.Describe,
        ["UpdateTable"] = TableOperations.Update,
        ["DeleteTable"] = TableOperations.Delete,
        ["ListTables"] = TableOperations.List,
        ["UpdateContinuousBackups"] = TableOperations.UpdateContinuousBackups,
        ["DescribeContinuousBackups"] = TableOperations.DescribeContinuousBackups,
        ["TagResource"] = TableOperations.TagResource,
        ["UntagResource"] = TableOperations.UntagResource,
        ["ListTagsOfResource"] = TableOperations.ListTagsOfResource,
        ["GetItem"] = ItemOperations.Get,
        ["PutItem"] = ItemOperations.Put,
        ["UpdateItem"] = ItemOperations.Update,
        ["DeleteItem"] = ItemOperations.Delete,
        ["Query"] = ReadOperations.Query,
        ["Scan"] = ReadOperations.Scan,
        ["BatchGetItem"] = BatchOperations.BatchGet,
        ["BatchWriteItem"] = BatchOperations.BatchWrite,
        ["TransactWriteItems"] = BatchOperations.TransactWrite,
        ["TransactGetItems"] = BatchOperations.TransactGet,
    };

    public DynamoDbService Service { get; } = service;

    public static bool Has(string operation) => Handlers.ContainsKey(operation);

    /// <summary>Runs an operation for <paramref name="account"/>, writing its answer; a <see cref="DynamoDbException"/> is the client's error.</summary>
    public void Handle(string operation, JsonElement body, string account, Utf8JsonWriter response)
    {
        if (body.ValueKind != JsonValueKind.Object)
            throw DynamoDbErrors.Serialization("Start of list found where not expected");
        Handlers[operation](new DynamoDbRequest(body, response, Service, account));
    }

    /// <summary>
    /// The resources an operation acts on, as IAM names them: each table it names (<c>arn:aws:dynamodb:…:table/NAME</c>, an
    /// index read through <c>…/index/NAME</c>), or <c>*</c> for ListTables. Read before validation, so never throwing.
    /// </summary>
    public IEnumerable<string> Resources(string operation, JsonElement body, string account)
    {
        string Arn(string table) => $"arn:aws:dynamodb:{Service.Options.Region}:{account}:table/{table}";
        static string? Text(JsonElement e, string name) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        if (operation == "ListTables")
            return ["*"];
        if (operation is "TagResource" or "UntagResource" or "ListTagsOfResource")
            return Text(body, "ResourceArn") is { } arn ? [arn] : ["*"];
        if (operation is "BatchGetItem" or "BatchWriteItem")
            return body.ValueKind == JsonValueKind.Object && body.TryGetProperty("RequestItems", out var items) && items.ValueKind == JsonValueKind.Object
                ? items.EnumerateObject().Select(p => Arn(p.Name)).ToList()
                : ["*"];
        if (operation is "TransactWriteItems" or "TransactGetItems")
            return body.ValueKind == JsonValueKind.Object && body.TryGetProperty("TransactItems", out var transact) && transact.ValueKind == JsonValueKind.Array
                ? transact.EnumerateArray().SelectMany(a => a.ValueKind == JsonValueKind.Object ? a.EnumerateObject() : default)
                    .Select(p => Text(p.Value, "TableName")).OfType<string>().Distinct().Select(Arn).ToList()
                : ["*"];
        if (Text(body, "TableName") is not { } name)
            return ["*"];
        return Text(body, "IndexName") is { } index && operation is "Query" or "Scan" ? [$"{Arn(name)}/index/{index}"] : [Arn(name)];
    }
}
