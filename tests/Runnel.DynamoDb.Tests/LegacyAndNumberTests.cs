using System.Text.Json;
using Runnel.DynamoDb.Expressions;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;

namespace Runnel.DynamoDb.Tests;

/// <summary>The legacy parameters the KCL sends (Expected, AttributeUpdates, filters) and DynamoDB's numbers.</summary>
public sealed class LegacyAndNumberTests
{
    private static Item Lease() => AttributeJson.ReadItem(JsonDocument.Parse("""
        {"leaseKey":{"S":"shardId-1"},"leaseOwner":{"S":"worker-a"},"leaseCounter":{"N":"3"},"ownerSwitchesSinceCheckpoint":{"N":"0"},"parents":{"SS":["p1"]}}
        """).RootElement);

    private static Condition? Expected(string json, string? conditionalOperator = null) =>
        LegacyConditions.Parse(JsonDocument.Parse(json).RootElement, conditionalOperator, expected: true);

    [Theory]
    [InlineData("""{"leaseCounter":{"Value":{"N":"3"}}}""", true)]
    [InlineData("""{"leaseCounter":{"Value":{"N":"3"},"Exists":true}}""", true)]
    [InlineData("""{"leaseCounter":{"Value":{"N":"4"}}}""", false)]
    [InlineData("""{"leaseKey":{"Exists":false}}""", false)]
    [InlineData("""{"checkpoint":{"Exists":false}}""", true)]
    [InlineData("""{"leaseOwner":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"worker-a"}]},"leaseCounter":{"ComparisonOperator":"GT","AttributeValueList":[{"N":"5"}]}}""", false)]
    [InlineData("""{"leaseOwner":{"ComparisonOperator":"NOT_NULL"}}""", true)]
    [InlineData("""{"leaseCounter":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"},{"N":"3"}]}}""", true)]
    [InlineData("""{"parents":{"ComparisonOperator":"CONTAINS","AttributeValueList":[{"S":"p1"}]}}""", true)]
    [InlineData("""{"leaseKey":{"ComparisonOperator":"BEGINS_WITH","AttributeValueList":[{"S":"shard"}]}}""", true)]
    public void Expected_conditions_evaluate_as_DynamoDB_does(string json, bool expected) =>
        Assert.Equal(expected, ConditionEvaluator.Matches(Expected(json)!, Lease()));

    [Fact]
    public void ConditionalOperator_OR_needs_one_condition_only()
    {
        string json = """{"leaseOwner":{"Value":{"S":"nobody"}},"leaseCounter":{"Value":{"N":"3"}}}""";
        Assert.False(ConditionEvaluator.Matches(Expected(json)!, Lease()));
        Assert.True(ConditionEvaluator.Matches(Expected(json, "OR")!, Lease()));
    }

    [Theory]
    [InlineData("""{"a":{"Exists":true}}""", "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a")]
    [InlineData("""{"a":{}}""", "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a")]
    [InlineData("""{"a":{"Exists":false,"Value":{"S":"x"}}}""", "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a")]
    [InlineData("""{"a":{"ComparisonOperator":"EQ"}}""", "One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a")]
    [InlineData("""{"a":{"ComparisonOperator":"BETWEEN","AttributeValueList":[{"N":"1"}]}}""", "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator")]
    [InlineData("""{"a":{"ComparisonOperator":"EQ","Exists":true,"Value":{"S":"x"}}}""", "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: a")]
    public void Bad_Expected_is_refused_with_AWS_messages(string json, string message) =>
        Assert.Equal(message, Assert.Throws<DynamoDbException>(() => Expected(json)).WireMessage);

    [Fact]
    public void AttributeUpdates_put_add_and_delete_as_the_KCL_uses_them()
    {
        var updates = AttributeUpdate.Parse(JsonDocument.Parse("""
            {"leaseOwner":{"Action":"PUT","Value":{"S":"worker-b"}},"leaseCounter":{"Value":{"N":"4"}},
             "ownerSwitchesSinceCheckpoint":{"Action":"ADD","Value":{"N":"1"}},"parents":{"Action":"DELETE"},
             "childShardIds":{"Action":"ADD","Value":{"SS":["c1","c2"]}}}
            """).RootElement);
        var key = new Item(StringComparer.Ordinal) { ["leaseKey"] = AttributeValue.S("shardId-1") };
        var updated = AttributeUpdate.Apply(updates, Lease(), key);
        Assert.Equal("worker-b", updated["leaseOwner"].String);
        Assert.Equal("4", updated["leaseCounter"].Number.ToString());
        Assert.Equal("1", updated["ownerSwitchesSinceCheckpoint"].Number.ToString());
        Assert.False(updated.ContainsKey("parents"));
        Assert.Equal(["c1", "c2"], updated["childShardIds"].StringSet);
        Assert.Equal("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified",
            Assert.Throws<DynamoDbException>(() => AttributeUpdate.Parse(JsonDocument.Parse("""{"a":{"Action":"PUT"}}""").RootElement)).WireMessage);
        var mismatch = AttributeUpdate.Parse(JsonDocument.Parse("""{"leaseOwner":{"Action":"ADD","Value":{"N":"1"}}}""").RootElement);
        Assert.Equal("Type mismatch for attribute to update", Assert.Throws<DynamoDbException>(() => AttributeUpdate.Apply(mismatch, Lease(), key)).WireMessage);
    }

    [Theory]
    [InlineData("1.50", "1.5")]
    [InlineData("0100", "100")]
    [InlineData("1e2", "100")]
    [InlineData("-0.00500", "-0.005")]
    [InlineData("1.2E-3", "0.0012")]
    [InlineData("-0", "0")]
    [InlineData("12345678901234567890123456789012345678", "12345678901234567890123456789012345678")]
    public void Numbers_are_kept_in_canonical_form(string given, string stored) =>
        Assert.Equal(stored, DynamoNumber.TryParse(given, out _)!.Value.ToString());

    [Theory]
    [InlineData("", "The parameter cannot be converted to a numeric value")]
    [InlineData("abc", "The parameter cannot be converted to a numeric value: abc")]
    [InlineData("1.2.3", "The parameter cannot be converted to a numeric value: 1.2.3")]
    [InlineData("123456789012345678901234567890123456789", "Attempting to store more than 38 significant digits in a Number")]
    [InlineData("1e126", "Number overflow. Attempting to store a number with magnitude larger than supported range")]
    [InlineData("1e-131", "Number underflow. Attempting to store a number with magnitude smaller than supported range")]
    public void Numbers_out_of_DynamoDB_range_are_refused(string given, string message)
    {
        Assert.Null(DynamoNumber.TryParse(given, out string? error));
        Assert.Equal(message, error);
    }

    [Fact]
    public void Number_arithmetic_is_exact()
    {
        var a = DynamoNumber.TryParse("0.1", out _)!.Value;
        var b = DynamoNumber.TryParse("0.2", out _)!.Value;
        Assert.Equal("0.3", (a + b).ToString());
        Assert.Equal("-0.1", (a - b).ToString());
        var big = DynamoNumber.TryParse("99999999999999999999999999999999999999", out _)!.Value;
        Assert.Equal("Attempting to store more than 38 significant digits in a Number", (big + DynamoNumber.Of(1) + a).RangeError());
    }

    [Theory]
    [InlineData("""{}""", "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")]
    [InlineData("""{"S":"a","N":"1"}""", "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")]
    [InlineData("""{"NULL":false}""", "One or more parameter values were invalid: Null attribute value types must have the value of true")]
    [InlineData("""{"SS":[]}""", "One or more parameter values were invalid: An string set  may not be empty")]
    [InlineData("""{"SS":["a","a"]}""", "One or more parameter values were invalid: Input collection [a, a] contains duplicates.")]
    [InlineData("""{"NS":["1","1.0"]}""", "Input collection contains duplicates")]
    public void Bad_attribute_values_are_refused_with_AWS_messages(string json, string message) =>
        Assert.Equal(message, Assert.Throws<DynamoDbException>(() => AttributeJson.Read(JsonDocument.Parse(json).RootElement)).WireMessage);

    [Fact]
    public void Attribute_values_round_trip_through_JSON()
    {
        string json = """{"s":{"S":"x"},"n":{"N":"1.5"},"b":{"B":"AQID"},"t":{"BOOL":true},"z":{"NULL":true},"m":{"M":{"l":{"L":[{"N":"1"},{"S":"2"}]}}},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2"]},"bs":{"BS":["AQ=="]}}""";
        var item = AttributeJson.ReadItem(JsonDocument.Parse(json).RootElement);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
            AttributeJson.WriteItem(w, item);
        Assert.Equal(json, System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal(item, Tables.TableCodec.DecodeItem(Tables.TableCodec.EncodeItem(item)));
    }
}
