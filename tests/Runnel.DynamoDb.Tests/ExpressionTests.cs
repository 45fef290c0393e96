using Runnel.DynamoDb.Expressions;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;

namespace Runnel.DynamoDb.Tests;

/// <summary>The expression parsers and evaluators: what DynamoDB accepts, what it refuses (with its messages), and what
/// conditions, projections and updates do to items.</summary>
public sealed class ExpressionTests
{
    private static AttributeValue S(string s) => AttributeValue.S(s);

    private static AttributeValue N(string n) => AttributeValue.N(DynamoNumber.TryParse(n, out _)!.Value);

    private static ExpressionContext Context(Dictionary<string, string>? names = null, Dictionary<string, AttributeValue>? values = null) => new(names, values);

    private static Item Lease() => new(StringComparer.Ordinal)
    {
        ["leaseKey"] = S("shardId-000000000001"),
        ["leaseOwner"] = S("worker-a"),
        ["leaseCounter"] = N("7"),
        ["checkpoint"] = S("TRIM_HORIZON"),
        ["tags"] = AttributeValue.SS(["x", "y"]),
        ["doc"] = AttributeValue.M(new Item(StringComparer.Ordinal) { ["elems"] = AttributeValue.L([N("1"), S("two"), AttributeValue.Bool(true)]) }),
    };

    private static bool Matches(string expression, Dictionary<string, AttributeValue>? values = null, Dictionary<string, string>? names = null, Item? item = null)
    {
        var context = Context(names, values);
        var condition = ConditionParser.Parse(expression, "ConditionExpression", context);
        return ConditionEvaluator.Matches(condition, item ?? Lease());
    }

    private static string Refusal(Action action) => Assert.Throws<DynamoDbException>(action).WireMessage!;

    [Theory]
    [InlineData("attribute_exists(leaseKey)", true)]
    [InlineData("attribute_not_exists(leaseKey)", false)]
    [InlineData("attribute_not_exists(nothing)", true)]
    [InlineData("leaseCounter = :seven", true)]
    [InlineData("leaseCounter <> :seven", false)]
    [InlineData("leaseCounter < :ten", true)]
    [InlineData("leaseCounter >= :ten", false)]
    [InlineData("leaseCounter BETWEEN :seven AND :ten", true)]
    [InlineData("leaseCounter IN (:ten, :seven)", true)]
    [InlineData("leaseOwner = :a AND leaseCounter = :ten", false)]
    [InlineData("leaseOwner = :a OR leaseCounter = :ten", true)]
    [InlineData("NOT leaseOwner = :a", false)]
    [InlineData("NOT (leaseOwner = :a AND leaseCounter = :ten)", true)]
    [InlineData("begins_with(leaseKey, :prefix)", true)]
    [InlineData("contains(tags, :x)", true)]
    [InlineData("contains(checkpoint, :trim)", true)]
    [InlineData("contains(doc.elems, :two)", true)]
    [InlineData("size(tags) = :two_count", true)]
    [InlineData("size(leaseKey) > :ten", true)]
    [InlineData("attribute_type(leaseCounter, :n)", true)]
    [InlineData("attribute_type(leaseCounter, :s)", false)]
    [InlineData("doc.elems[1] = :two", true)]
    [InlineData("doc.elems[5] = :two", false)]
    [InlineData("absent <> :seven", true)]
    [InlineData("leaseOwner = :a OR leaseOwner = :ten AND leaseCounter = :ten", true)] // AND binds tighter than OR
    public void Conditions_evaluate_as_DynamoDB_does(string expression, bool expected)
    {
        var values = new Dictionary<string, AttributeValue>
        {
            [":seven"] = N("7.0"), // numbers compare numerically: 7.0 = 7
            [":ten"] = N("10"),
            [":a"] = S("worker-a"),
            [":prefix"] = S("shardId-"),
            [":x"] = S("x"),
            [":trim"] = S("HORIZON"),
            [":two"] = S("two"),
            [":two_count"] = N("2"),
            [":n"] = S("N"),
            [":s"] = S("S"),
        };
        var used = values.Where(v => expression.Contains(v.Key + " ", StringComparison.Ordinal) || expression.Contains(v.Key + ")", StringComparison.Ordinal) || expression.Contains(v.Key + ",", StringComparison.Ordinal) || expression.EndsWith(v.Key, StringComparison.Ordinal))
            .ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(expected, Matches(expression, used));
    }

    [Fact]
    public void Conditions_on_a_missing_item_see_every_attribute_missing()
    {
        var condition = ConditionParser.Parse("attribute_not_exists(leaseKey)", "ConditionExpression", Context());
        Assert.True(ConditionEvaluator.Matches(condition, null));
        condition = ConditionParser.Parse("leaseOwner = :a", "ConditionExpression", Context(values: new() { [":a"] = S("a") }));
        Assert.False(ConditionEvaluator.Matches(condition, null));
    }

    [Fact]
    public void Names_stand_in_for_reserved_words_and_values_of_other_types_never_compare()
    {
        var item = new Item(StringComparer.Ordinal) { ["status"] = S("ACTIVE"), ["count"] = N("5") };
        Assert.True(Matches("#s = :v", new() { [":v"] = S("ACTIVE") }, new() { ["#s"] = "status" }, item));
        Assert.False(Matches("#c = :v", new() { [":v"] = S("5") }, new() { ["#c"] = "count" }, item));
        Assert.False(Matches("#c < :v", new() { [":v"] = S("9") }, new() { ["#c"] = "count" }, item));
    }

    [Fact]
    public void Strings_order_by_their_UTF8_bytes_and_numbers_numerically()
    {
        Assert.True(AttributeValue.Compare(S("\uFFFD"), S("\U0001F600")) < 0); // UTF-16 would order these the other way
        Assert.True(AttributeValue.Compare(N("9"), N("10")) < 0);
        Assert.True(AttributeValue.Compare(N("-1E+2"), N("-99.5")) < 0);
        Assert.Equal(0, AttributeValue.Compare(N("100"), N("1e2")));
    }

    [Theory]
    [InlineData("attribute_exists(status)", "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status")]
    [InlineData("#x = :v", "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #x")]
    [InlineData("a = :nope", "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope")]
    [InlineData("attribute_exists(a, b)", "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2")]
    [InlineData("frobnicate(a)", "Invalid ConditionExpression: Invalid function name; function: frobnicate")]
    [InlineData("attribute_exists(a) = :v", "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists")]
    [InlineData("a = a", "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]")]
    [InlineData("begins_with(a, :n)", "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N")]
    [InlineData("a BETWEEN :n AND :v", "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {S:x}")]
    [InlineData("a = :v AND", "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \":v AND\"")]
    [InlineData("a == :v", "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"==\"")]
    [InlineData("", "Invalid ConditionExpression: The expression can not be empty;")]
    public void Bad_conditions_are_refused_with_AWS_messages(string expression, string message)
    {
        var context = Context(values: new() { [":v"] = S("x"), [":n"] = N("5") });
        Assert.Equal(message, Refusal(() => ConditionParser.Parse(expression, "ConditionExpression", context)));
    }

    [Fact]
    public void Unused_names_and_values_are_refused_once_all_expressions_are_parsed()
    {
        var context = Context(new() { ["#a"] = "a", ["#b"] = "b" }, new() { [":v"] = S("x") });
        ConditionParser.Parse("#a = :v", "ConditionExpression", context);
        Assert.Equal("Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}", Refusal(context.CheckAllUsed));
        context = Context(values: new() { [":v"] = S("x"), [":w"] = S("y") });
        ConditionParser.Parse("a = :v", "ConditionExpression", context);
        Assert.Equal("Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}", Refusal(context.CheckAllUsed));
    }

    private static Item Update(string expression, Item? item, Dictionary<string, AttributeValue>? values = null, Dictionary<string, string>? names = null)
    {
        var actions = UpdateParser.Parse(expression, Context(names, values));
        return UpdateApplier.Apply(actions, item, new Item(StringComparer.Ordinal) { ["leaseKey"] = S("shardId-000000000001") });
    }

    [Fact]
    public void Updates_set_remove_add_and_delete_reading_operands_from_the_item_as_it_was()
    {
        var updated = Update("SET leaseCounter = leaseCounter + :one, previous = leaseCounter, checkpoint = if_not_exists(nothing, :cp) REMOVE leaseOwner ADD visits :one DELETE tags :x",
            Lease(), new() { [":one"] = N("1"), [":cp"] = S("LATEST"), [":x"] = AttributeValue.SS(["x"]) });
        Assert.Equal(N("8"), updated["leaseCounter"]);
        Assert.Equal(N("7"), updated["previous"]);
        Assert.Equal(S("LATEST"), updated["checkpoint"]);
        Assert.False(updated.ContainsKey("leaseOwner"));
        Assert.Equal(N("1"), updated["visits"]);
        Assert.Equal(AttributeValue.SS(["y"]), updated["tags"]);
    }

    [Fact]
    public void Updates_of_nested_paths_and_lists()
    {
        var updated = Update("SET doc.elems[1] = :new, doc.extra = :new, doc.elems[9] = :tail, later = list_append(doc.elems, :more) REMOVE doc.elems[0]", Lease(),
            new() { [":new"] = S("NEW"), [":tail"] = S("tail"), [":more"] = AttributeValue.L([S("more")]) });
        var list = updated["doc"].Map["elems"].List;
        Assert.Equal([S("NEW"), AttributeValue.Bool(true), S("tail")], list);
        Assert.Equal(S("NEW"), updated["doc"].Map["extra"]);
        Assert.Equal(4, updated["later"].List.Count);
        Assert.Equal("The document path provided in the update expression is invalid for update",
            Refusal(() => Update("SET absent.deep = :v", Lease(), new() { [":v"] = S("x") })));
        Assert.Equal("The provided expression refers to an attribute that does not exist in the item",
            Refusal(() => Update("SET a = absent", Lease())));
        Assert.Equal("An operand in the update expression has an incorrect data type",
            Refusal(() => Update("ADD leaseOwner :one", Lease(), new() { [":one"] = N("1") })));
    }

    [Theory]
    [InlineData("SET a = :v SET b = :v", "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;")]
    [InlineData("SET a = :v REMOVE a", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]")]
    [InlineData("SET a.b = :v, a = :v", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]")]
    [InlineData("ADD a :v", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING")]
    [InlineData("SET a = :v + :n", "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S")]
    [InlineData("SET a = nope(b)", "Invalid UpdateExpression: Invalid function name; function: nope")]
    [InlineData("SET a :v", "Invalid UpdateExpression: Syntax error; token: \":v\", near: \"a :v\"")]
    public void Bad_updates_are_refused_with_AWS_messages(string expression, string message)
    {
        var context = Context(values: new() { [":v"] = S("x"), [":n"] = N("1") });
        Assert.Equal(message, Refusal(() => UpdateParser.Parse(expression, context)));
    }

    [Fact]
    public void Projections_take_nested_parts_and_refuse_overlaps()
    {
        var paths = ConditionParser.ParseProjection("leaseKey, doc.elems[2], doc.elems[0], #o", Context(new() { ["#o"] = "leaseOwner" }));
        var projected = Documents.Project(Lease(), paths);
        Assert.Equal(["leaseKey", "doc", "leaseOwner"], projected.Keys);
        Assert.Equal([N("1"), AttributeValue.Bool(true)], projected["doc"].Map["elems"].List);
        Assert.Equal("Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [doc], path two: [doc, elems]",
            Refusal(() => ConditionParser.ParseProjection("doc, doc.elems", Context())));
    }
}
