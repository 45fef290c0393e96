using System.Text;
using System.Text.Json.Nodes;
using Runnel.Functions.Mappings;

namespace Runnel.Functions.Tests;

/// <summary>
/// Lambda's event filtering for Kinesis sources: every operator of the pattern syntax, AND within a pattern and OR
/// across filters and with <c>$or</c>, nested objects and arrays of the record's data, data that is not JSON, the
/// record's other fields, and the patterns Lambda refuses. Examples marked "AWS" are the Lambda and EventBridge
/// guides' own.
/// </summary>
public sealed class EventFilterTests
{
    private const int Timeout = 10_000;
    private const string PartitionKey = "1";
    private const string Sequence = "49590338271490256608559692538361571095921575989136588898";
    private const decimal Arrival = 1545084650.987m;

    /// <summary>Whether a record with <paramref name="data"/> (JSON or not) and the usual metadata is kept.</summary>
    private static bool Keeps(string data, params string[] patterns) =>
        EventFilter.Parse(patterns).Matches(PartitionKey, Sequence, Arrival, Encoding.UTF8.GetBytes(data));

    private static bool KeepsKey(string partitionKey, params string[] patterns) =>
        EventFilter.Parse(patterns).Matches(partitionKey, Sequence, Arrival, "{}"u8);

    [Fact(Timeout = Timeout)]
    public async Task Data_is_matched_as_the_records_json_aws_order_example()
    {
        await Task.Yield();
        const string pattern = """{ "data" : { "order" : { "type" : [ "buy" ] } } }""";
        Assert.True(Keeps("""{"record": 12345, "order": {"type": "buy", "stock": "ANYCO", "quantity": 1000}}""", pattern));
        Assert.False(Keeps("""{"record": 12345, "order": {"type": "sell", "stock": "ANYCO", "quantity": 1000}}""", pattern));
        Assert.False(Keeps("""{"record": 12345}""", pattern));
    }

    [Fact(Timeout = Timeout)]
    public async Task Exact_strings_match_character_by_character_without_case_folding()
    {
        await Task.Yield();
        const string pattern = """{"data": {"Name": ["Alice"]}}""";
        Assert.True(Keeps("""{"Name": "Alice"}""", pattern));
        Assert.True(Keeps("""{"Name": "\u0041lice"}""", pattern));
        Assert.False(Keeps("""{"Name": "alice"}""", pattern));
        Assert.False(Keeps("""{"Name": "Alice "}""", pattern));
    }

    [Fact(Timeout = Timeout)]
    public async Task Null_and_empty_string_are_distinct_and_neither_matches_an_absent_field()
    {
        await Task.Yield();
        const string isNull = """{"data": {"UserID": [null]}}""";
        const string isEmpty = """{"data": {"LastName": [""]}}""";
        Assert.True(Keeps("""{"UserID": null}""", isNull));
        Assert.False(Keeps("""{"UserID": ""}""", isNull));
        Assert.False(Keeps("""{}""", isNull));
        Assert.True(Keeps("""{"LastName": ""}""", isEmpty));
        Assert.False(Keeps("""{"LastName": null}""", isEmpty));
        Assert.False(Keeps("""{}""", isEmpty));
    }

    [Fact(Timeout = Timeout)]
    public async Task Booleans_match_booleans_not_their_text()
    {
        await Task.Yield();
        const string pattern = """{"data": {"active": [true]}}""";
        Assert.True(Keeps("""{"active": true}""", pattern));
        Assert.False(Keeps("""{"active": false}""", pattern));
        Assert.False(Keeps("""{"active": "true"}""", pattern));
    }

    [Fact(Timeout = Timeout)]
    public async Task Exact_numbers_compare_by_text_as_lambda_documents_300_300_0_and_3_0e2_differ()
    {
        await Task.Yield();
        const string pattern = """{"data": {"Price": [300]}}""";
        Assert.True(Keeps("""{"Price": 300}""", pattern));
        Assert.False(Keeps("""{"Price": 300.0}""", pattern));
        Assert.False(Keeps("""{"Price": 3.0e2}""", pattern));
        Assert.False(Keeps("""{"Price": "300"}""", pattern));
    }

    [Fact(Timeout = Timeout)]
    public async Task Numeric_equals_compares_values_of_json_numbers_only()
    {
        await Task.Yield();
        const string pattern = """{"data": {"Price": [{"numeric": ["=", 100]}]}}""";
        Assert.True(Keeps("""{"Price": 100}""", pattern));
        Assert.True(Keeps("""{"Price": 100.0}""", pattern));
        Assert.True(Keeps("""{"Price": 1e2}""", pattern));
        Assert.False(Keeps("""{"Price": 100.5}""", pattern));
        Assert.False(Keeps("""{"Price": "100"}""", pattern));
    }

    [Fact(Timeout = Timeout)]
    public async Task Numeric_range_honours_each_bound_aws_temperature_example()
    {
        await Task.Yield();
        const string pattern = """{ "data": { "Temperature": [ {"numeric": [ ">", 50, "<=", 60 ] } ] } }""";
        Assert.False(Keeps("""{"Temperature": 50}""", pattern));
        Assert.True(Keeps("""{"Temperature": 50.000001}""", pattern));
        Assert.True(Keeps("""{"Temperature": 60}""", pattern));
        Assert.False(Keeps("""{"Temperature": 60.5}""", pattern));
        Assert.True(Keeps("""{"c": -3}""", """{"data": {"c": [{"numeric": ["<", 0]}]}}"""));
        Assert.False(Keeps("""{"c": 0}""", """{"data": {"c": [{"numeric": ["<", 0]}]}}"""));
        Assert.True(Keeps("""{"c": 0}""", """{"data": {"c": [{"numeric": [">=", 0]}]}}"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task Prefix_matches_the_beginning_of_strings_and_can_ignore_case()
    {
        await Task.Yield();
        const string pattern = """{"data": {"Region": [{"prefix": "us-"}]}}""";
        Assert.True(Keeps("""{"Region": "us-east-1"}""", pattern));
        Assert.False(Keeps("""{"Region": "US-east-1"}""", pattern));
        Assert.False(Keeps("""{"Region": "eu-west-1"}""", pattern));
        Assert.True(Keeps("""{"service": "EventBridge"}""", """{"data": {"service": [{"prefix": {"equals-ignore-case": "eventb"}}]}}"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task Suffix_matches_the_end_of_strings_and_can_ignore_case()
    {
        await Task.Yield();
        const string pattern = """{"data": {"FileName": [{"suffix": ".png"}]}}""";
        Assert.True(Keeps("""{"FileName": "cat.png"}""", pattern));
        Assert.False(Keeps("""{"FileName": "cat.PNG"}""", pattern));
        Assert.False(Keeps("""{"FileName": "cat.png.gz"}""", pattern));
        Assert.True(Keeps("""{"FileName": "cat.PNG"}""", """{"data": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}}"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task Equals_ignore_case_matches_any_casing_of_a_string()
    {
        await Task.Yield();
        const string pattern = """{"data": {"Name": [{"equals-ignore-case": "alice"}]}}""";
        Assert.True(Keeps("""{"Name": "ALICE"}""", pattern));
        Assert.True(Keeps("""{"Name": "Alice"}""", pattern));
        Assert.False(Keeps("""{"Name": "Alicia"}""", pattern));
    }

    [Fact(Timeout = Timeout)]
    public async Task Anything_but_matches_present_values_other_than_those_listed()
    {
        await Task.Yield();
        const string pattern = """{ "data": { "Weather": [ { "anything-but": [ "Raining" ] } ] } }""";
        Assert.True(Keeps("""{"Weather": "Sunny"}""", pattern));
        Assert.False(Keeps("""{"Weather": "Raining"}""", pattern));
        Assert.False(Keeps("""{"Other": 1}""", pattern));
        Assert.True(Keeps("""{"state": "running"}""", """{"data": {"state": [{"anything-but": "initializing"}]}}"""));
        Assert.False(Keeps("""{"state": "initializing"}""", """{"data": {"state": [{"anything-but": "initializing"}]}}"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task Anything_but_numbers_compare_values()
    {
        await Task.Yield();
        const string pattern = """{"data": {"x-limit": [{"anything-but": [100, 200, 300]}]}}""";
        Assert.True(Keeps("""{"x-limit": 150}""", pattern));
        Assert.False(Keeps("""{"x-limit": 100}""", pattern));
        Assert.False(Keeps("""{"x-limit": 1e2}""", pattern));
    }

    [Fact(Timeout = Timeout)]
    public async Task Anything_but_prefix_suffix_and_ignore_case()
    {
        await Task.Yield();
        Assert.False(Keeps("""{"state": "initializing"}""", """{"data": {"state": [{"anything-but": {"prefix": "init"}}]}}"""));
        Assert.True(Keeps("""{"state": "running"}""", """{"data": {"state": [{"anything-but": {"prefix": "init"}}]}}"""));
        Assert.False(Keeps("""{"f": "a.png"}""", """{"data": {"f": [{"anything-but": {"suffix": ".png"}}]}}"""));
        Assert.True(Keeps("""{"f": "a.jpg"}""", """{"data": {"f": [{"anything-but": {"suffix": ".png"}}]}}"""));
        Assert.False(Keeps("""{"state": "INITIALIZING"}""", """{"data": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}}"""));
        Assert.True(Keeps("""{"state": "Stopped"}""", """{"data": {"state": [{"anything-but": {"equals-ignore-case": ["initializing", "running"]}}]}}"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task Exists_sees_leaves_only()
    {
        await Task.Yield();
        const string exists = """{"data": {"ProductName": [{"exists": true}]}}""";
        const string absent = """{"data": {"ProductName": [{"exists": false}]}}""";
        Assert.True(Keeps("""{"ProductName": "Widget"}""", exists));
        Assert.False(Keeps("""{"Other": "Widget"}""", exists));
        Assert.True(Keeps("""{"Other": "Widget"}""", absent));
        Assert.False(Keeps("""{"ProductName": "Widget"}""", absent));
        // AWS (EventBridge): an intermediate node is not a leaf, so it does not "exist" for exists matching.
        Assert.False(Keeps("""{"ProductName": {"c1": 100}}""", exists));
        Assert.True(Keeps("""{"ProductName": {"c1": 100}}""", absent));
    }

    [Fact(Timeout = Timeout)]
    public async Task Exists_false_matches_when_a_parent_object_is_missing()
    {
        await Task.Yield();
        Assert.True(Keeps("""{"other": 1}""", """{"data": {"detail": {"c-count": [{"exists": false}]}}}"""));
        Assert.False(Keeps("""{"detail": {"c-count": 5}}""", """{"data": {"detail": {"c-count": [{"exists": false}]}}}"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task All_fields_of_a_pattern_must_match()
    {
        await Task.Yield();
        const string pattern = """{"data": {"Location": ["New York"], "Day": ["Monday"]}}""";
        Assert.True(Keeps("""{"Location": "New York", "Day": "Monday"}""", pattern));
        Assert.False(Keeps("""{"Location": "New York", "Day": "Tuesday"}""", pattern));
        Assert.False(Keeps("""{"Location": "New York"}""", pattern));
    }

    [Fact(Timeout = Timeout)]
    public async Task Any_value_of_a_fields_array_may_match()
    {
        await Task.Yield();
        const string pattern = """{"data": {"PaymentType": ["Credit", "Debit"]}}""";
        Assert.True(Keeps("""{"PaymentType": "Credit"}""", pattern));
        Assert.True(Keeps("""{"PaymentType": "Debit"}""", pattern));
        Assert.False(Keeps("""{"PaymentType": "Cash"}""", pattern));
        Assert.True(Keeps("""{"a": 2}""", """{ "data": { "a" : [ 1, 2 ] } }"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task A_record_is_kept_when_any_filter_matches()
    {
        await Task.Yield();
        string[] filters = ["""{"data": {"type": ["buy"]}}""", """{"data": {"quantity": [{"numeric": [">", 500]}]}}"""];
        Assert.True(Keeps("""{"type": "buy", "quantity": 1}""", filters));
        Assert.True(Keeps("""{"type": "sell", "quantity": 1000}""", filters));
        Assert.False(Keeps("""{"type": "sell", "quantity": 1}""", filters));
    }

    [Fact(Timeout = Timeout)]
    public async Task Or_across_fields_with_dollar_or()
    {
        await Task.Yield();
        const string pattern = """{"data": {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}}""";
        Assert.True(Keeps("""{"Location": "New York", "Day": "Friday"}""", pattern));
        Assert.True(Keeps("""{"Location": "Paris", "Day": "Monday"}""", pattern));
        Assert.False(Keeps("""{"Location": "Paris", "Day": "Friday"}""", pattern));
    }

    [Fact(Timeout = Timeout)]
    public async Task Dollar_or_is_anded_with_the_other_fields_and_works_at_the_top_level()
    {
        await Task.Yield();
        const string pattern = """{"data": {"kind": ["order"], "$or": [{"total": [{"numeric": [">", 100]}]}, {"vip": [true]}]}}""";
        Assert.True(Keeps("""{"kind": "order", "total": 500}""", pattern));
        Assert.True(Keeps("""{"kind": "order", "total": 5, "vip": true}""", pattern));
        Assert.False(Keeps("""{"kind": "refund", "total": 500}""", pattern));
        Assert.False(Keeps("""{"kind": "order", "total": 5}""", pattern));
        const string top = """{"$or": [{"partitionKey": ["vip"]}, {"data": {"vip": [true]}}]}""";
        Assert.True(EventFilter.Parse([top]).Matches("vip", Sequence, Arrival, "not json"u8));
        Assert.True(EventFilter.Parse([top]).Matches("7", Sequence, Arrival, """{"vip": true}"""u8));
        Assert.False(EventFilter.Parse([top]).Matches("7", Sequence, Arrival, """{"vip": false}"""u8));
    }

    [Fact(Timeout = Timeout)]
    public async Task Nested_objects_match_level_by_level()
    {
        await Task.Yield();
        const string pattern = """{"data": {"Keys": {"Id": {"N": ["101"]}}}}""";
        Assert.True(Keys("""{"Keys": {"Id": {"N": "101"}}, "SizeBytes": 26}"""));
        Assert.False(Keys("""{"Keys": {"Id": {"N": "102"}}}"""));
        Assert.False(Keys("""{"Keys": {"Id": "101"}}"""));
        Assert.False(Keys("""{"Keys": "101"}"""));

        static bool Keys(string data) => Keeps(data, pattern);
    }

    [Fact(Timeout = Timeout)]
    public async Task A_leaf_matches_when_any_element_of_an_array_in_the_data_matches()
    {
        await Task.Yield();
        const string pattern = """{"data": {"resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}}""";
        Assert.True(Keeps("""{"resources": ["arn:aws:autoscaling:us-east-1:123456789012:asg", "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}""", pattern));
        Assert.False(Keeps("""{"resources": ["arn:aws:autoscaling:us-east-1:123456789012:asg"]}""", pattern));
        Assert.False(Keeps("""{"resources": []}""", pattern));
        Assert.True(Keeps("""{"n": [1, [5, 60]]}""", """{"data": {"n": [{"numeric": [">", 50]}]}}"""));
        Assert.True(Keeps("""{"tags": []}""", """{"data": {"tags": [{"exists": false}]}}"""));
        Assert.True(Keeps("""{"tags": ["a"]}""", """{"data": {"tags": [{"exists": true}]}}"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task An_object_pattern_over_an_array_of_objects_reads_all_its_fields_from_one_element()
    {
        await Task.Yield();
        const string data = """{"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}""";
        Assert.True(Keeps(data, """{"data": {"items": {"sku": ["b"], "qty": [2]}}}"""));
        Assert.False(Keeps(data, """{"data": {"items": {"sku": ["a"], "qty": [2]}}}"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task Data_that_is_not_json_fails_every_filter_that_names_data()
    {
        await Task.Yield();
        Assert.False(Keeps("Hello, this is a test.", """{"data": {"a": [{"exists": false}]}}"""));
        Assert.False(Keeps("{\"type\": \"buy\"", """{"data": {"type": ["buy"]}}"""));
        Assert.False(Keeps("""{"type": "buy"} trailing""", """{"data": {"type": ["buy"]}}"""));
        Assert.False(EventFilter.Parse(["""{"data": {"type": ["buy"]}}"""]).Matches(PartitionKey, Sequence, Arrival, [0xFF, 0xFE, 0x00]));
        Assert.False(EventFilter.Parse(["""{"data": {"type": ["buy"]}}"""]).Matches(PartitionKey, Sequence, Arrival, []));
    }

    [Fact(Timeout = Timeout)]
    public async Task Json_data_may_carry_a_byte_order_mark_and_white_space()
    {
        await Task.Yield();
        byte[] data = [0xEF, 0xBB, 0xBF, .. " { \"type\": \"buy\" } \n"u8];
        Assert.True(EventFilter.Parse(["""{"data": {"type": ["buy"]}}"""]).Matches(PartitionKey, Sequence, Arrival, data));
    }

    [Fact(Timeout = Timeout)]
    public async Task Data_that_is_not_json_can_still_be_kept_by_a_filter_on_the_other_fields()
    {
        await Task.Yield();
        string[] filters = ["""{"data": {"type": ["buy"]}}""", """{"partitionKey": ["1"]}"""];
        var filter = EventFilter.Parse(filters);
        Assert.True(filter.NamesData);
        Assert.True(filter.Matches("1", Sequence, Arrival, "plain text"u8));
        Assert.False(filter.Matches("2", Sequence, Arrival, "plain text"u8));
        Assert.True(filter.Matches("2", Sequence, Arrival, """{"type": "buy"}"""u8));
    }

    [Fact(Timeout = Timeout)]
    public async Task Metadata_only_filters_match_the_partition_key_whatever_the_data()
    {
        await Task.Yield();
        var filter = EventFilter.Parse(["""{"partitionKey": [{"prefix": "tenant-"}]}"""]);
        Assert.False(filter.NamesData);
        Assert.True(filter.Matches("tenant-42", Sequence, Arrival, "\u0001 binary"u8));
        Assert.False(filter.Matches("other-42", Sequence, Arrival, """{"x": 1}"""u8));
        Assert.True(KeepsKey("1", """{ "partitionKey": [ "1" ], "data": { "Location": [ { "exists": false } ] } }"""));
        Assert.False(KeepsKey("2", """{ "partitionKey": [ "1" ], "data": { "Location": [ { "exists": false } ] } }"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task The_other_record_fields_are_as_the_event_gives_them()
    {
        await Task.Yield();
        Assert.True(KeepsKey(PartitionKey, """{"kinesisSchemaVersion": ["1.0"]}"""));
        Assert.True(KeepsKey(PartitionKey, $$"""{"sequenceNumber": ["{{Sequence}}"]}"""));
        Assert.True(KeepsKey(PartitionKey, """{"approximateArrivalTimestamp": [1545084650.987]}"""));
        Assert.True(KeepsKey(PartitionKey, """{"approximateArrivalTimestamp": [{"numeric": [">=", 1545084650, "<", 1545084651]}]}"""));
        Assert.False(KeepsKey(PartitionKey, """{"approximateArrivalTimestamp": [{"numeric": [">", 1545084651]}]}"""));
        // Lambda's own fields (eventSource, awsRegion...) are not the record's: absent, as any unknown field.
        Assert.False(KeepsKey(PartitionKey, """{"eventSource": ["aws:kinesis"]}"""));
        Assert.True(KeepsKey(PartitionKey, """{"eventSource": [{"exists": false}]}"""));
    }

    [Fact(Timeout = Timeout)]
    public async Task A_key_given_twice_counts_by_its_last_value_aws_example()
    {
        await Task.Yield();
        const string pattern = """{"data": {"duplicateKey": ["hello"], "uniqueKey": ["test123"], "duplicateKey": ["world"]}}""";
        Assert.True(Keeps("""{"duplicateKey": "world", "uniqueKey": "test123"}""", pattern));
        Assert.False(Keeps("""{"duplicateKey": "hello", "uniqueKey": "test123"}""", pattern));
    }

    [Theory(Timeout = Timeout)]
    [InlineData("""{"data": {"a": [1]""", "not valid JSON")]
    [InlineData("""[{"data": {"a": [1]}}]""", "must be a JSON object")]
    [InlineData("", "empty")]
    [InlineData("{}", "the pattern is an empty object")]
    [InlineData("""{"data": {}}""", "\"data\" is an empty object")]
    [InlineData("""{"data": {"order": {"type": "buy"}}}""", "\"data.order.type\" must be an array of values or an object of fields")]
    [InlineData("""{"data": {"a": []}}""", "\"data.a\" is an empty array")]
    [InlineData("""{"data": {"a": [[1]]}}""", "\"data.a\" holds an array")]
    [InlineData("""{"data": ["buy"]}""", "\"data\" must be an object")]
    [InlineData("""{"data": {"a": [{"wildcard": "*.png"}]}}""", "unknown operator \"wildcard\"")]
    [InlineData("""{"data": {"a": [{"contains": "x"}]}}""", "unknown operator \"contains\"")]
    [InlineData("""{"data": {"a": [{"prefix": "x", "suffix": "y"}]}}""", "more than one key")]
    [InlineData("""{"data": {"a": [{}]}}""", "empty operator object")]
    [InlineData("""{"data": {"a": [{"prefix": 1}]}}""", "\"prefix\" with a number")]
    [InlineData("""{"data": {"a": [{"exists": "yes"}]}}""", "\"exists\" with a string")]
    [InlineData("""{"data": {"a": [{"anything-but": []}]}}""", "anything-but")]
    [InlineData("""{"data": {"a": [{"anything-but": ["x", 1]}]}}""", "not only strings or only numbers")]
    [InlineData("""{"data": {"a": [{"anything-but": {"wildcard": "x*"}}]}}""", "anything-but")]
    [InlineData("""{"data": {"a": [{"numeric": [">", 0, "<="]}]}}""", "numeric")]
    [InlineData("""{"data": {"a": [{"numeric": ["!=", 5]}]}}""", "operator \"!=\"")]
    [InlineData("""{"data": {"a": [{"numeric": [">", "5"]}]}}""", "a string where a finite number is expected")]
    [InlineData("""{"data": {"a": [{"numeric": ["=", 5, "<", 9]}]}}""", "operator \"=\"")]
    [InlineData("""{"data": {"a": [{"numeric": [">", 1, ">", 2]}]}}""", "operator \">\"")]
    [InlineData("""{"data": {"a": [{"numeric": [">", 9, "<", 2]}]}}""", "lower bound is not below")]
    [InlineData("""{"data": {"a": [{"numeric": 5}]}}""", "numeric")]
    [InlineData("""{"data": {"$or": {"a": [1]}}}""", "\"data.$or\" must be an array of two or more patterns")]
    [InlineData("""{"data": {"$or": [{"a": [1]}]}}""", "\"data.$or\" must be an array of two or more patterns")]
    [InlineData("""{"data": {"$or": [{"a": [1]}, ["b"]]}}""", "\"data.$or[1]\" must be an object")]
    public async Task Invalid_patterns_are_refused_naming_what_is_wrong(string pattern, string problem)
    {
        await Task.Yield();
        var error = Assert.Throws<FormatException>(() => EventFilter.Parse(["""{"partitionKey": ["1"]}""", pattern]));
        Assert.StartsWith("Filter 2: ", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact(Timeout = Timeout)]
    public async Task Criteria_as_the_api_takes_them()
    {
        await Task.Yield();
        var criteria = JsonNode.Parse("""{ "Filters": [ { "Pattern": "{ \"partitionKey\": [ \"1\" ], \"data\": { \"Location\": [ \"Los Angeles\" ] }}" } ] }""")!.AsObject();
        var filter = EventFilter.FromCriteria(criteria)!;
        Assert.Equal(1, filter.Count);
        Assert.True(filter.Matches("1", Sequence, Arrival, """{"Location": "Los Angeles"}"""u8));
        Assert.False(filter.Matches("2", Sequence, Arrival, """{"Location": "Los Angeles"}"""u8));
        Assert.False(filter.Matches("1", Sequence, Arrival, """{"Location": "Seattle"}"""u8));
    }

    [Fact(Timeout = Timeout)]
    public async Task No_criteria_no_filters_or_an_empty_list_mean_no_filter()
    {
        await Task.Yield();
        Assert.Null(EventFilter.FromCriteria(null));
        Assert.Null(EventFilter.FromCriteria(new JsonObject()));
        Assert.Null(EventFilter.FromCriteria(JsonNode.Parse("""{"Filters": []}""")!.AsObject()));
        Assert.Throws<ArgumentException>(() => EventFilter.Parse([]));
    }

    [Theory(Timeout = Timeout)]
    [InlineData("""{"Filters": {"Pattern": "{}"}}""")]
    [InlineData("""{"Filters": [{"pattern": "{\"a\": [1]}"}]}""")]
    [InlineData("""{"Filters": [{"Pattern": {"a": [1]}}]}""")]
    [InlineData("""{"Filters": ["{\"a\": [1]}"]}""")]
    [InlineData("""{"Filters": [{"Pattern": "{\"a\": 1}"}]}""")]
    public async Task Malformed_criteria_are_refused(string criteria)
    {
        await Task.Yield();
        Assert.Throws<FormatException>(() => EventFilter.FromCriteria(JsonNode.Parse(criteria)!.AsObject()));
    }
}
