using System.Text.Json;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;
using Runnel.DynamoDb.Tables;

namespace Runnel.DynamoDb.Api;

/// <summary>CreateTable, DescribeTable, UpdateTable, DeleteTable, ListTables and the table settings' operations.</summary>
internal static class TableOperations
{
    public static void Create(DynamoDbRequest r)
    {
        string name = r.TableName()!;
        var constraints = new Constraints();
        var definitionsMember = r.Member("AttributeDefinitions");
        var keyMember = r.Member("KeySchema");
        constraints.NotNull(definitionsMember, "attributeDefinitions");
        constraints.NotNull(keyMember, "keySchema");
        string billing = r.String("BillingMode") ?? "PROVISIONED";
        constraints.Enum(billing, "billingMode", "PROVISIONED", "PAY_PER_REQUEST");
        var definitions = TableDefinitions.Attributes(definitionsMember, constraints);
        var elements = TableDefinitions.KeyElements(keyMember, constraints, "keySchema");
        var given = TableDefinitions.Throughput(r.Member("ProvisionedThroughput"), constraints, "provisionedThroughput");
        constraints.Throw();
        var throughput = TableDefinitions.TableThroughput(billing, given);
        var key = TableDefinitions.Key(elements, definitions);
        if (r.Member("LocalSecondaryIndexes") is not null)
            throw DynamoDbErrors.Validation("Runnel does not serve local secondary indexes; use a global secondary index.");
        if (r.Member("StreamSpecification") is { } stream && stream.TryGetProperty("StreamEnabled", out var enabled) && AttributeJson.Boolean(enabled))
            throw DynamoDbErrors.Validation("Runnel does not serve DynamoDB Streams; StreamEnabled must be false.");
        var indexes = new List<GlobalIndex>();
        if (r.Member("GlobalSecondaryIndexes") is { } gsis)
        {
            int i = 0;
            foreach (var index in DynamoDbRequest.Elements(gsis))
                indexes.Add(TableDefinitions.Index(index, definitions, billing, constraints, $"globalSecondaryIndexes.{++i}.member"));
            if (i == 0)
                throw DynamoDbErrors.InvalidParameter("List of GlobalSecondaryIndexes is empty");
            if (indexes.GroupBy(x => x.Name).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
                throw DynamoDbErrors.InvalidParameter($"Duplicate index name: {duplicate.Key}");
        }
        TableDefinitions.CheckAllUsed(definitions, key, indexes);
        var table = r.Service.Tables.Create(new Table(r.Account, name, 0, "", "CREATING", 0, key, definitions, billing, throughput, indexes)
        {
            Tags = Tags(r.Member("Tags")),
            DeletionProtection = r.Bool("DeletionProtectionEnabled") ?? false,
        });
        r.Response.WriteStartObject();
        r.Response.WritePropertyName("TableDescription");
        TableWire.Write(r.Response, table, r.Service.Options.Region, null);
        r.Response.WriteEndObject();
    }

    public static void Describe(DynamoDbRequest r)
    {
        string name = r.TableName()!;
        var table = r.Service.Tables.Find(r.Account, name) ?? throw DynamoDbErrors.TableNotFound(name);
        r.Response.WriteStartObject();
        r.Response.WritePropertyName("Table");
        TableWire.Write(r.Response, table, r.Service.Options.Region, index => r.Service.Tables.Size(table, index));
        r.Response.WriteEndObject();
    }

    public static void Delete(DynamoDbRequest r)
    {
        string name = r.TableName()!;
        var table = r.Service.Tables.Delete(r.Account, name);
        r.Response.WriteStartObject();
        r.Response.WritePropertyName("TableDescription");
        TableWire.Write(r.Response, table, r.Service.Options.Region, null);
        r.Response.WriteEndObject();
    }

    public static void List(DynamoDbRequest r)
    {
        string? start = r.TableName("ExclusiveStartTableName", required: false);
        long? limit = r.Long("Limit");
        var constraints = new Constraints();
        constraints.AtLeast(limit, 1, "limit");
        constraints.AtMost(limit, 100, "limit");
        constraints.Throw();
        var names = r.Service.Tables.List(r.Account).Select(t => t.Name)
            .Where(n => start is null || string.CompareOrdinal(n, start) > 0).ToList();
        int take = (int)(limit ?? 100);
        r.Response.WriteStartObject();
        r.Response.WriteStartArray("TableNames");
        foreach (string name in names.Take(take))
            r.Response.WriteStringValue(name);
        r.Response.WriteEndArray();
        if (names.Count > take)
            r.Response.WriteString("LastEvaluatedTableName", names[take - 1]);
        r.Response.WriteEndObject();
    }

    public static void Update(DynamoDbRequest r)
    {
        string name = r.TableName()!;
        var constraints = new Constraints();
        string? billing = r.String("BillingMode");
        constraints.Enum(billing, "billingMode", "PROVISIONED", "PAY_PER_REQUEST");
        var given = TableDefinitions.Throughput(r.Member("ProvisionedThroughput"), constraints, "provisionedThroughput");
        var newDefinitions = TableDefinitions.Attributes(r.Member("AttributeDefinitions"), constraints);
        var indexUpdates = r.Member("GlobalSecondaryIndexUpdates");
        bool? protection = r.Bool("DeletionProtectionEnabled");
        constraints.Throw();
        if (r.Member("StreamSpecification") is { } stream && stream.TryGetProperty("StreamEnabled", out var enabled) && AttributeJson.Boolean(enabled))
            throw DynamoDbErrors.Validation("Runnel does not serve DynamoDB Streams; StreamEnabled must be false.");
        if (billing is null && given is null && indexUpdates is null && protection is null && r.Member("TableClass") is null)
            throw DynamoDbErrors.Validation("At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required");
        long now = r.Service.Tables.NowMillis;
        var updated = r.Service.Tables.Update(r.Account, name, table =>
        {
            string mode = billing ?? table.BillingMode;
            var changed = table with { BillingMode = mode, DeletionProtection = protection ?? table.DeletionProtection };
            if (mode == "PAY_PER_REQUEST")
            {
                if (given is not null)
                    throw DynamoDbErrors.InvalidParameter("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
                if (table.BillingMode != mode)
                    changed = changed with { Throughput = new Throughput(0, 0), PayPerRequestSinceMillis = now, Indexes = changed.Indexes.Select(i => i with { Throughput = new Throughput(0, 0) }).ToList() };
            }
            else if (given is not null)
            {
                var old = table.Throughput;
                if (table.BillingMode == mode && old.Read == given.Read && old.Write == given.Write && indexUpdates is null)
                    throw DynamoDbErrors.Validation($"The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: {old.Read}. Requested ReadCapacityUnits: {given.Read}. Current WriteCapacityUnits provisioned for the table: {old.Write}. Requested WriteCapacityUnits: {given.Write}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.");
                bool increase = given.Read > old.Read || given.Write > old.Write;
                bool decrease = given.Read < old.Read || given.Write < old.Write;
                changed = changed with
                {
                    Throughput = TableDefinitions.TableThroughput(mode, given) with
                    {
                        LastIncreaseMillis = increase ? now : old.LastIncreaseMillis,
                        LastDecreaseMillis = decrease ? now : old.LastDecreaseMillis,
                        DecreasesToday = old.DecreasesToday + (decrease ? 1 : 0),
                    },
                };
            }
            else if (table.BillingMode != mode)
                throw DynamoDbErrors.InvalidParameter("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED");
            return indexUpdates is { } updates ? UpdateIndexes(changed, updates, newDefinitions, constraints) : changed;
        });
        r.Response.WriteStartObject();
        r.Response.WritePropertyName("TableDescription");
        TableWire.Write(r.Response, updated, r.Service.Options.Region, index => r.Service.Tables.Size(updated, index));
        r.Response.WriteEndObject();
    }

    /// <summary>GlobalSecondaryIndexUpdates: Create (with the new attribute definitions merged in), Update (throughput), Delete.</summary>
    private static Table UpdateIndexes(Table table, JsonElement updates, List<KeyElement> newDefinitions, Constraints constraints)
    {
        var definitions = table.AttributeDefinitions.ToList();
        foreach (var definition in newDefinitions)
        {
            if (definitions.FirstOrDefault(d => d.Name == definition.Name) is { } known && known.Type != definition.Type)
                throw DynamoDbErrors.InvalidParameter($"Cannot change the type of attribute {definition.Name} from {known.Type} to {definition.Type}");
            if (!definitions.Any(d => d.Name == definition.Name))
                definitions.Add(definition);
        }
        var indexes = table.Indexes.ToList();
        int i = 0;
        foreach (var update in DynamoDbRequest.Elements(updates))
        {
            i++;
            if (update.TryGetProperty("Create", out var create) && create.ValueKind != JsonValueKind.Null)
            {
                var index = TableDefinitions.Index(create, definitions, table.BillingMode, constraints, $"globalSecondaryIndexUpdates.{i}.member.create");
                if (indexes.Any(x => x.Name == index.Name))
                    throw DynamoDbErrors.Validation("One or more parameter values were invalid: Attempting to create an index which already exists");
                indexes.Add(index);
            }
            else if (update.TryGetProperty("Delete", out var delete) && delete.ValueKind != JsonValueKind.Null)
            {
                string indexName = TableDefinitions.Text(delete, "IndexName") ?? "";
                if (indexes.RemoveAll(x => x.Name == indexName) == 0)
                    throw new DynamoDbException(DynamoDbErrors.Namespace + "ResourceNotFoundException", $"Requested resource not found: Index: {indexName} not found");
            }
            else if (update.TryGetProperty("Update", out var change) && change.ValueKind != JsonValueKind.Null)
            {
                string indexName = TableDefinitions.Text(change, "IndexName") ?? "";
                int at = indexes.FindIndex(x => x.Name == indexName);
                if (at < 0)
                    throw new DynamoDbException(DynamoDbErrors.Namespace + "ResourceNotFoundException", $"Requested resource not found: Index: {indexName} not found");
                var throughput = TableDefinitions.Throughput(change.TryGetProperty("ProvisionedThroughput", out var t) ? t : null, constraints, $"globalSecondaryIndexUpdates.{i}.member.update.provisionedThroughput");
                constraints.Throw();
                if (throughput is not null)
                    indexes[at] = indexes[at] with { Throughput = throughput };
            }
        }
        var usedNames = table.Key.Elements.Concat(indexes.SelectMany(x => x.Key.Elements)).Select(e => e.Name).ToHashSet();
        return table with { Indexes = indexes, AttributeDefinitions = definitions.Where(d => usedNames.Contains(d.Name)).ToList() };
    }

    public static void UpdateContinuousBackups(DynamoDbRequest r)
    {
        string name = r.TableName()!;
        var constraints = new Constraints();
        var specification = r.Member("PointInTimeRecoverySpecification");
        constraints.NotNull(specification, "pointInTimeRecoverySpecification");
        bool? enable = specification is { } s && s.TryGetProperty("PointInTimeRecoveryEnabled", out var e) && e.ValueKind != JsonValueKind.Null ? AttributeJson.Boolean(e) : null;
        if (specification is not null)
            constraints.NotNull(enable, "pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled");
        long? days = specification is { } sp && sp.TryGetProperty("RecoveryPeriodInDays", out var d) && d.ValueKind != JsonValueKind.Null ? DynamoDbRequest.Long(d, "Integer") : null;
        constraints.AtLeast(days, 1, "pointInTimeRecoverySpecification.recoveryPeriodInDays");
        constraints.AtMost(days, 35, "pointInTimeRecoverySpecification.recoveryPeriodInDays");
        constraints.Throw();
        long now = r.Service.Tables.NowMillis;
        var table = r.Service.Tables.Update(r.Account, name, t => t with
        {
            PointInTimeRecovery = enable!.Value,
            RecoveryPeriodDays = (int)(days ?? 35),
            PointInTimeRecoverySinceMillis = enable.Value ? t.PointInTimeRecoverySinceMillis ?? now : null,
        }, () => DynamoDbErrors.ContinuousBackupsTableNotFound(name));
        WriteContinuousBackups(r, table);
    }

    public static void DescribeContinuousBackups(DynamoDbRequest r)
    {
        string name = r.TableName()!;
        var table = r.Service.Tables.Find(r.Account, name) ?? throw DynamoDbErrors.ContinuousBackupsTableNotFound(name);
        WriteContinuousBackups(r, table);
    }

    private static void WriteContinuousBackups(DynamoDbRequest r, Table table)
    {
        var w = r.Response;
        w.WriteStartObject();
        w.WriteStartObject("ContinuousBackupsDescription");
        w.WriteString("ContinuousBackupsStatus", "ENABLED");
        w.WriteStartObject("PointInTimeRecoveryDescription");
        w.WriteString("PointInTimeRecoveryStatus", table.PointInTimeRecovery ? "ENABLED" : "DISABLED");
        if (table.PointInTimeRecovery)
        {
            w.WriteNumber("RecoveryPeriodInDays", table.RecoveryPeriodDays);
            TableWire.WriteTime(w, "EarliestRestorableDateTime", table.PointInTimeRecoverySinceMillis ?? table.CreatedMillis);
            TableWire.WriteTime(w, "LatestRestorableDateTime", r.Service.Tables.NowMillis);
        }
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static void TagResource(DynamoDbRequest r)
    {
        var tags = Tags(r.Member("Tags"));
        var (account, name) = Resource(r);
        r.Service.Tables.Update(account, name, t => t with { Tags = new Dictionary<string, string>(t.Tags.Concat(tags).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value)) },
            () => ResourceNotFound(r));
        r.Response.WriteStartObject();
        r.Response.WriteEndObject();
    }

    public static void UntagResource(DynamoDbRequest r)
    {
        var keys = DynamoDbRequest.Elements(r.Member("TagKeys")).Select(k => AttributeJson.Text(k, "String")).ToHashSet();
        var (account, name) = Resource(r);
        r.Service.Tables.Update(account, name, t => t with { Tags = t.Tags.Where(p => !keys.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value) },
            () => ResourceNotFound(r));
        r.Response.WriteStartObject();
        r.Response.WriteEndObject();
    }

    public static void ListTagsOfResource(DynamoDbRequest r)
    {
        var (account, name) = Resource(r);
        var table = r.Service.Tables.Find(account, name) ?? throw ResourceNotFound(r);
        r.Response.WriteStartObject();
        r.Response.WriteStartArray("Tags");
        foreach (var (key, value) in table.Tags)
        {
            r.Response.WriteStartObject();
            r.Response.WriteString("Key", key);
            r.Response.WriteString("Value", value);
            r.Response.WriteEndObject();
        }
        r.Response.WriteEndArray();
        r.Response.WriteEndObject();
    }

    private static DynamoDbException ResourceNotFound(DynamoDbRequest r) =>
        new(DynamoDbErrors.Namespace + "ResourceNotFoundException", $"Requested resource not found: ResourceArn: {r.String("ResourceArn")} not found");

    /// <summary>The account and table a ResourceArn names (<c>arn:aws:dynamodb:REGION:ACCOUNT:table/NAME</c>).</summary>
    private static (string Account, string Name) Resource(DynamoDbRequest r)
    {
        string? arn = r.String("ResourceArn");
        var constraints = new Constraints();
        constraints.NotNull(arn, "resourceArn");
        constraints.Throw();
        return TableArn.TryParse(arn!, out string account, out string name) && account == r.Account
            ? (account, name)
            : throw DynamoDbErrors.Validation($"Invalid TableArn: Invalid ResourceArn provided as input {arn}");
    }

    private static Dictionary<string, string> Tags(JsonElement? member)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in DynamoDbRequest.Elements(member))
        {
            string? key = TableDefinitions.Text(tag, "Key");
            string? value = TableDefinitions.Text(tag, "Value");
            var constraints = new Constraints();
            constraints.NotNull(key, "tags.member.key");
            constraints.NotNull(value, "tags.member.value");
            constraints.Throw();
            tags[key!] = value!;
        }
        return tags;
    }
}

/// <summary>Table ARNs: <c>arn:aws:dynamodb:REGION:ACCOUNT:table/NAME</c> (an index's ARN adds <c>/index/NAME</c>).</summary>
public static class TableArn
{
    public static bool TryParse(string arn, out string account, out string table)
    {
        account = table = "";
        var parts = arn.Split(':', 6);
        if (parts is not ["arn", _, "dynamodb", _, { Length: > 0 }, var resource] || !resource.StartsWith("table/", StringComparison.Ordinal))
            return false;
        account = parts[4];
        table = resource["table/".Length..].Split('/')[0];
        return table.Length > 0;
    }
}
