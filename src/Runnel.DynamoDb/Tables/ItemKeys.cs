using System.Security.Cryptography;
using System.Text;
using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;
using Runnel.Storage.Metadata;

namespace Runnel.DynamoDb.Tables;

/// <summary>
/// Primary keys: checked against a table's schema with AWS's messages, and turned into the key of the item's document
/// (docs/formats/dynamodb.md): each key attribute as its type letter, the length of its canonical text, ':' and the
/// text (a number in canonical form, binary in base64), hash then range; a key longer than a document key may be is
/// replaced by '#' and the SHA-256 of it in hex. Thread-safe: stateless.
/// </summary>
public static class ItemKeys
{
    private const int MaxHashBytes = 2048;
    private const int MaxRangeBytes = 1024;

    /// <summary>The key a Key member gives, checked: exactly the schema's attributes, each of its type, not empty, within size.</summary>
    public static Item CheckKey(Item key, KeySchema schema)
    {
        if (key.Count != schema.Elements.Count())
            throw DynamoDbErrors.Validation("The provided key element does not match the schema");
        foreach (var element in schema.Elements)
        {
            if (!key.TryGetValue(element.Name, out var value) || value.Type != element.Type)
                throw DynamoDbErrors.Validation("The provided key element does not match the schema");
            CheckPiece(element, value, element == schema.Hash);
        }
        return key;
    }

    /// <summary>An item's key attributes, checked as PutItem checks them; the key alone is returned.</summary>
    public static Item CheckItem(Item item, Table table)
    {
        var key = new Item(StringComparer.Ordinal);
        foreach (var element in table.Key.Elements)
        {
            if (!item.TryGetValue(element.Name, out var value))
                throw DynamoDbErrors.InvalidParameter($"Missing the key {element.Name} in the item");
            if (value.Type != element.Type)
                throw DynamoDbErrors.InvalidParameter($"Type mismatch for key {element.Name} expected: {element.Type} actual: {value.Type}");
            CheckPiece(element, value, element == table.Key.Hash);
            key[element.Name] = value;
        }
        foreach (var index in table.Indexes)
            foreach (var element in index.Key.Elements)
                if (item.TryGetValue(element.Name, out var value) && value.Type != element.Type)
                    throw DynamoDbErrors.InvalidParameter($"Type mismatch for Index Key {element.Name} Expected: {element.Type} Actual: {value.Type} IndexName: {index.Name}");
        return key;
    }

    private static void CheckPiece(KeyElement element, AttributeValue value, bool hash)
    {
        int size = value.Type switch
        {
            AttributeType.S => Encoding.UTF8.GetByteCount(value.String),
            AttributeType.B => value.Bytes.Length,
            _ => -1,
        };
        if (size == 0)
            throw DynamoDbErrors.Validation($"One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {(value.Type == AttributeType.S ? "string" : "binary")} value. Key: {element.Name}");
        if (hash && size > MaxHashBytes)
            throw DynamoDbErrors.InvalidParameter("Size of hashkey has exceeded the maximum size limit of2048 bytes");
        if (!hash && size > MaxRangeBytes)
            throw DynamoDbErrors.InvalidParameter("Aggregated size of all range keys has exceeded the size limit of 1024 bytes");
    }

    /// <summary>The key attributes of an item (which has them all).</summary>
    public static Item KeyOf(Item item, KeySchema schema) =>
        schema.Elements.ToDictionary(k => k.Name, k => item[k.Name], StringComparer.Ordinal);

    /// <summary>The document key of an item with this key.</summary>
    public static string DocumentKey(Item key, KeySchema schema)
    {
        var text = new StringBuilder();
        foreach (var element in schema.Elements)
        {
            var value = key[element.Name];
            string canonical = value.Type switch
            {
                AttributeType.S => value.String,
                AttributeType.N => value.Number.ToString(),
                _ => Convert.ToBase64String(value.Bytes),
            };
            text.Append(value.Type).Append(canonical.Length).Append(':').Append(canonical);
        }
        string documentKey = text.ToString();
        return Encoding.UTF8.GetByteCount(documentKey) <= MetadataDocument.MaxKeyBytes
            ? documentKey
            : "#" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(documentKey)));
    }
}
