using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Runnel.Firehose;

/// <summary>Source-generated JSON for the few documents Firehose serializes whole (AOT: no reflection).</summary>
[JsonSerializable(typeof(Dictionary<string, IReadOnlyDictionary<string, string>>))]
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class FirehoseJsonContext : JsonSerializerContext;
