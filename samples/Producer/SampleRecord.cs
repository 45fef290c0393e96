using System.Text.Json.Serialization;

/// <summary>The seed tutorial's record: <c>{"data_tag": "DataOne", "score": "10", "char": "Database Warrior"}</c>.</summary>
internal sealed record SampleRecord(
    [property: JsonPropertyName("data_tag")] string DataTag,
    [property: JsonPropertyName("score")] string Score,
    [property: JsonPropertyName("char")] string Char);

/// <summary>Source-generated JSON for <see cref="SampleRecord"/> (no reflection: the samples stay trimmable).</summary>
[JsonSerializable(typeof(SampleRecord))]
internal sealed partial class SampleJson : JsonSerializerContext;
