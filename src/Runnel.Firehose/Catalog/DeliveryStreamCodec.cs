using System.Text.Json;
using System.Text.Json.Nodes;

namespace Runnel.Firehose.Catalog;

/// <summary>
/// A delivery stream's metadata document (kind <see cref="Kind"/>, key its name): a JSON object, its layout in
/// docs/formats/firehose.md. Members this version does not know are ignored on reading, so that a newer node's
/// additions do not stop an older one. Thread-safe: stateless.
/// </summary>
public static class DeliveryStreamCodec
{
    public const string Kind = "delivery-stream";

    public static byte[] Encode(DeliveryStream s)
    {
        var json = new JsonObject
        {
            ["name"] = s.Name,
            ["arn"] = s.Arn,
            ["status"] = s.Status,
            ["type"] = s.Type,
            ["version"] = s.Version,
            ["created"] = s.CreatedMillis,
        };
        if (s.UpdatedMillis is { } updated)
            json["updated"] = updated;
        if (s.DueMillis is { } due)
            json["due"] = due;
        if (s.Failure is { } failure)
            json["failure"] = new JsonObject { ["type"] = failure.Type, ["details"] = failure.Details };
        if (s.KinesisSource is { } source)
            json["kinesisSource"] = source.DeepClone();
        if (s.DeliveryStartMillis is { } start)
            json["deliveryStart"] = start;
        if (s.DirectPutSource is { } direct)
            json["directPutSource"] = direct.DeepClone();
        json["destinationKind"] = s.DestinationKind;
        json["destination"] = s.Destination.DeepClone();
        if (s.Encryption is { } encryption)
        {
            var e = new JsonObject { ["status"] = encryption.Status };
            if (encryption.KeyType is { } keyType)
                e["keyType"] = keyType;
            if (encryption.KeyArn is { } keyArn)
                e["keyArn"] = keyArn;
            json["encryption"] = e;
        }
        if (s.AtRest is { } atRest)
            json["atRest"] = Runnel.Storage.Metadata.EncryptionCodec.Encode(atRest);
        if (s.EncryptionChanges.Count > 0)
            json["encryptionChanges"] = new JsonArray(s.EncryptionChanges.Select(t => (JsonNode)JsonValue.Create(t)).ToArray());
        var tags = new JsonArray();
        foreach (var (key, value) in s.Tags)
            tags.Add((JsonNode)new JsonArray(key, value));
        json["tags"] = tags;
        if (s.LogId is { } log)
            json["log"] = log;
        return JsonSerializer.SerializeToUtf8Bytes(json, FirehoseJsonContext.Default.JsonObject);
    }

    /// <summary>Reads a stored document; <see cref="InvalidDataException"/> when it is not one.</summary>
    public static DeliveryStream Decode(byte[] body, ulong revision)
    {
        try
        {
            var json = JsonNode.Parse(body)!.AsObject();
            return new DeliveryStream
            {
                Name = (string)json["name"]!,
                Arn = (string)json["arn"]!,
                Status = (string)json["status"]!,
                Type = (string)json["type"]!,
                Version = (long)json["version"]!,
                CreatedMillis = (long)json["created"]!,
                UpdatedMillis = (long?)json["updated"],
                DueMillis = (long?)json["due"],
                Failure = json["failure"] is JsonObject f ? new DeliveryFailure((string)f["type"]!, (string)f["details"]!) : null,
                KinesisSource = json["kinesisSource"]?.DeepClone().AsObject(),
                DeliveryStartMillis = (long?)json["deliveryStart"],
                DirectPutSource = json["directPutSource"]?.DeepClone().AsObject(),
                DestinationKind = (string)json["destinationKind"]!,
                Destination = json["destination"]!.DeepClone().AsObject(),
                Encryption = json["encryption"] is JsonObject e ? new DeliveryEncryption((string)e["status"]!, (string?)e["keyType"], (string?)e["keyArn"]) : null,
                AtRest = json["atRest"] is JsonValue atRest ? Runnel.Storage.Metadata.EncryptionCodec.Decode((string)atRest!) : null,
                EncryptionChanges = json["encryptionChanges"] is JsonArray changes ? changes.Select(c => (long)c!).ToList() : [],
                Tags = json["tags"] is JsonArray tags ? tags.Select(t => new KeyValuePair<string, string>((string)t![0]!, (string)t[1]!)).ToList() : [],
                LogId = (long?)json["log"],
                Revision = revision,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"A {Kind} document does not hold a delivery stream ({e.Message}).", e);
        }
    }
}
