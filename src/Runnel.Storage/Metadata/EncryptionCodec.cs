using System.Text.Json;
using Runnel.Core.Model;

namespace Runnel.Storage.Metadata;

/// <summary>
/// A stream's encryption at rest (<c>streams.encryption</c>, and <c>encryption</c> in a cluster's stream document) as
/// JSON: <c>{"kms_key_id": "alias/aws/kinesis" or null, "keys": [{"id": 1, "kms_key_id": "…", "wrapped": "base64"}]}</c>
/// (docs/formats/metadata.md). The wrapped keys are useless without the master key, which is never stored here.
/// </summary>
public static class EncryptionCodec
{
    public static string Encode(AtRestEncryption encryption)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (encryption.KmsKeyId is { } kms)
                w.WriteString("kms_key_id", kms);
            else
                w.WriteNull("kms_key_id");
            w.WriteStartArray("keys");
            foreach (var key in encryption.Keys)
            {
                w.WriteStartObject();
                w.WriteNumber("id", key.Id);
                w.WriteString("kms_key_id", key.KmsKeyId);
                w.WriteBase64String("wrapped", key.Wrapped);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>What <see cref="Encode"/> wrote; <see cref="FormatException"/> when the text is not that.</summary>
    public static AtRestEncryption Decode(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var kms = root.GetProperty("kms_key_id");
            var keys = root.GetProperty("keys").EnumerateArray()
                .Select(k => new WrappedDataKey(k.GetProperty("id").GetUInt32(), k.GetProperty("kms_key_id").GetString()!, k.GetProperty("wrapped").GetBytesFromBase64()))
                .ToList();
            return new AtRestEncryption(kms.ValueKind == JsonValueKind.Null ? null : kms.GetString(), keys);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new FormatException($"not an encryption document: {e.Message}", e);
        }
    }
}
