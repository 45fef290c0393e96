using Runnel.DynamoDb.Expressions;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;
using Runnel.DynamoDb.Tables;

namespace Runnel.DynamoDb.Api;

/// <summary>Query and Scan, on a table or a global secondary index.</summary>
internal static class ReadOperations
{
    public static void Query(DynamoDbRequest r) => Read(r, query: true);

    public static void Scan(DynamoDbRequest r) => Read(r, query: false);

    private static void Read(DynamoDbRequest r, bool query)
    {
        string name = r.TableName()!;
        string? indexName = r.TableName("IndexName", required: false);
        string? select = r.String("Select");
        long? limit = r.Long("Limit");
        long? segment = query ? null : r.Long("Segment");
        long? totalSegments = query ? null : r.Long("TotalSegments");
        var constraints = new Constraints();
        constraints.Enum(select, "select", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT");
        constraints.AtLeast(limit, 1, "limit");
        constraints.AtLeast(segment, 0, "segment");
        constraints.AtMost(segment, 999999, "segment");
        constraints.AtLeast(totalSegments, 1, "totalSegments");
        constraints.AtMost(totalSegments, 1000000, "totalSegments");
        constraints.Throw();
        if (segment is not null && totalSegments is null)
            throw DynamoDbErrors.Validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present");
        if (totalSegments is not null && segment is null)
            throw DynamoDbErrors.Validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present");
        if (segment >= totalSegments)
            throw DynamoDbErrors.Validation($"The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {segment} is not less than TotalSegments: {totalSegments}");
        string[] expressions = query ? ["ProjectionExpression", "FilterExpression", "KeyConditionExpression"] : ["ProjectionExpression", "FilterExpression"];
        string[] legacy = query ? ["AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"] : ["AttributesToGet", "ScanFilter", "ConditionalOperator"];
        var context = r.Expressions(expressions, legacy);
        string filterMember = query ? "QueryFilter" : "ScanFilter";
        Condition? keyCondition = null;
        if (query)
        {
            if (r.String("KeyConditionExpression") is { } keyExpression)
                keyCondition = ConditionParser.Parse(keyExpression, "KeyConditionExpression", context);
            else if (r.Member("KeyConditions") is { } keyConditions)
                keyCondition = LegacyConditions.Parse(keyConditions, "AND", expected: false);
            else
                throw DynamoDbErrors.Validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
        }
        var filter = r.String("FilterExpression") is { } filterExpression ? ConditionParser.Parse(filterExpression, "FilterExpression", context)
            : r.Member(filterMember) is { } legacyFilter ? LegacyConditions.Parse(legacyFilter, r.String("ConditionalOperator"), expected: false)
            : null;
        var projection = r.Projection(context);
        context.CheckAllUsed();
        bool projected = projection is not null;
        select ??= projected ? "SPECIFIC_ATTRIBUTES" : indexName is null ? "ALL_ATTRIBUTES" : "ALL_PROJECTED_ATTRIBUTES";
        string projectionMember = r.Member("ProjectionExpression") is not null ? "ProjectionExpression" : "AttributesToGet";
        if (select == "SPECIFIC_ATTRIBUTES" && !projected)
            throw DynamoDbErrors.Validation("Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES");
        if (select == "ALL_ATTRIBUTES" && projected)
            throw DynamoDbErrors.Validation($"Cannot specify the {projectionMember} when choosing to get ALL_ATTRIBUTES");
        if (select == "COUNT" && projected)
            throw DynamoDbErrors.Validation($"Cannot specify the {projectionMember} when choosing to get only the Count");
        if (select == "ALL_PROJECTED_ATTRIBUTES" && indexName is null)
            throw DynamoDbErrors.Validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
        bool consistent = r.Bool("ConsistentRead") == true;
        var start = r.Item("ExclusiveStartKey");
        var table = r.ActiveTable(name);
        GlobalIndex? index = null;
        if (indexName is not null)
        {
            index = table.Index(indexName) ?? throw DynamoDbErrors.Validation($"The table does not have the specified index: {indexName}");
            if (consistent)
                throw DynamoDbErrors.Validation("Consistent reads are not supported on global secondary indexes");
            if (select == "ALL_ATTRIBUTES" && index.ProjectionType != "ALL")
                throw DynamoDbErrors.InvalidParameter($"Select type ALL_ATTRIBUTES is not supported for global secondary index {indexName} because its projection type is not ALL");
        }
        var schema = index?.Key ?? table.Key;
        KeyCondition? key = keyCondition is null ? null : KeyCondition.From(keyCondition, schema, r.Member("KeyConditionExpression") is not null);
        if (query && filter is not null && r.Member("FilterExpression") is not null && KeyAttributeIn(filter, schema) is { } keyAttribute)
            throw DynamoDbErrors.Validation($"Filter Expression can only contain non-primary key attributes: Primary key attribute: {keyAttribute}");
        var page = r.Service.Reads.Read(new ReadRequest(table, index)
        {
            Key = key,
            Filter = filter,
            Forward = r.Bool("ScanIndexForward") ?? true,
            Limit = (int?)Math.Min(limit ?? int.MaxValue, int.MaxValue),
            ExclusiveStart = start,
            Segment = (int)(segment ?? 0),
            TotalSegments = (int)(totalSegments ?? 1),
        });
        var w = r.Response;
        w.WriteStartObject();
        if (select != "COUNT")
        {
            w.WriteStartArray("Items");
            foreach (var item in page.Items)
                AttributeJson.WriteItem(w, projection is null ? item : Documents.Project(item, projection));
            w.WriteEndArray();
        }
        w.WriteNumber("Count", page.Items.Count);
        w.WriteNumber("ScannedCount", page.ScannedCount);
        if (page.LastEvaluatedKey is { } last)
            AttributeJson.WriteItem(w, "LastEvaluatedKey", last);
        r.Capacity(table.Name, DynamoDbRequest.ReadUnits(page.Items.Sum(i => (long)AttributeValue.SizeOf(i)), consistent));
        w.WriteEndObject();
    }

    /// <summary>The first key attribute a filter names, or null.</summary>
    private static string? KeyAttributeIn(Condition condition, KeySchema schema) => condition switch
    {
        And a => KeyAttributeIn(a.Left, schema) ?? KeyAttributeIn(a.Right, schema),
        Or o => KeyAttributeIn(o.Left, schema) ?? KeyAttributeIn(o.Right, schema),
        Not n => KeyAttributeIn(n.Inner, schema),
        Comparison c => Key(schema, c.Left, c.Right),
        Between b => Key(schema, b.Value, b.Low, b.High),
        In i => Key(schema, [i.Value, .. i.Candidates]),
        FunctionCondition f => Key(schema, [.. f.Arguments]),
        _ => null,
    };

    private static string? Key(KeySchema schema, params Operand[] operands) =>
        operands.OfType<PathOperand>().Select(p => p.Path.Head).FirstOrDefault(schema.Contains);
}
