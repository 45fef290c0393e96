using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runnel.Firehose.Channels;

/// <summary>
/// A channel's metadata document (kind <see cref="Kind"/>, key its name): a JSON object, its layout in
/// docs/formats/firehose.md. Members this version does not know are ignored on reading. Thread-safe: stateless.
/// </summary>
public static class ChannelCodec
{
    public const string Kind = "channel";

    public static byte[] Encode(Channel c)
    {
        var json = new JsonObject
        {
            ["name"] = c.Name,
            ["id"] = c.Id,
            ["arn"] = c.Arn,
            ["status"] = c.Status,
            ["created"] = c.CreatedMillis,
        };
        if (c.StatusReason is { } reason)
            json["statusReason"] = reason;
        if (c.DueMillis is { } due)
            json["due"] = due;
        if (c.DeliveryStartMillis is { } start)
            json["deliveryStart"] = start;
        json["role"] = c.RoleArn;
        json["stream"] = c.StreamArn;
        json["streamCreated"] = c.StreamCreatedMillis;
        json["recordConfiguration"] = c.RecordConfiguration.DeepClone();
        json["destinationType"] = c.DestinationType;
        json["destination"] = c.Destination.DeepClone();
        if (c.Encryption is { } encryption)
            json["encryption"] = encryption.DeepClone();
        json["logging"] = c.Logging.DeepClone();
        var tags = new JsonArray();
        foreach (var (key, value) in c.Tags)
            tags.Add((JsonNode)new JsonArray(key, value));
        json["tags"] = tags;
        return JsonSerializer.SerializeToUtf8Bytes(json, FirehoseJsonContext.Default.JsonObject);
    }

    /// <summary>Reads a stored document; <see cref="InvalidDataException"/> when it is not one.</summary>
    public static Channel Decode(byte[] body, ulong revision)
    {
        try
        {
            var json = JsonNode.Parse(body)!.AsObject();
            return new Channel
            {
                Name = (string)json["name"]!,
                Id = (string)json["id"]!,
                Arn = (string)json["arn"]!,
                Status = (string)json["status"]!,
                StatusReason = (string?)json["statusReason"],
                CreatedMillis = (long)json["created"]!,
                DueMillis = (long?)json["due"],
                DeliveryStartMillis = (long?)json["deliveryStart"],
                RoleArn = (string)json["role"]!,
                StreamArn = (string)json["stream"]!,
                StreamCreatedMillis = (long)json["streamCreated"]!,
                RecordConfiguration = json["recordConfiguration"]!.DeepClone().AsObject(),
                DestinationType = (string)json["destinationType"]!,
                Destination = json["destination"]!.DeepClone().AsObject(),
                Encryption = json["encryption"]?.DeepClone().AsObject(),
                Logging = json["logging"]!.DeepClone().AsObject(),
                Tags = json["tags"] is JsonArray tags ? tags.Select(t => new KeyValuePair<string, string>((string)t![0]!, (string)t[1]!)).ToList() : [],
                Revision = revision,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"A {Kind} document does not hold a channel ({e.Message}).", e);
        }
    }
}
