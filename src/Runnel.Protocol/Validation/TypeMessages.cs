using System.Globalization;
using Runnel.Protocol.Requests;

namespace Runnel.Protocol.Validation;

/// <summary>
/// The SerializationException messages Kinesis (a Java service) gives when a member has the wrong
/// type (JSON or CBOR), as captured from AWS. Their wording names Java classes ("an String" is AWS's grammar).
/// Kept in one table so they can follow AWS if its wording changes.
/// </summary>
internal static class TypeMessages
{
    private const string NumberClass = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber";
    /// <summary>A CBOR byte string where the model wants another type: Runnel's wording, in AWS's form (AWS's is unrecorded).</summary>
    private const string BytesClass = "class java.nio.HeapByteBuffer";
    private const string ListNotExpected = "Start of list found where not expected";
    private const string StructureNotExpected = "Start of structure or map found where not expected.";

    public static string? ForString(RequestValue value) => value.Kind switch
    {
        RequestKind.String => null,
        RequestKind.Number => $"{NumberClass} can not be converted to an String",
        RequestKind.True or RequestKind.False => "class java.lang.Boolean can not be converted to an String",
        RequestKind.Bytes => $"{BytesClass} can not be converted to an String",
        RequestKind.Array => ListNotExpected,
        _ => StructureNotExpected,
    };

    /// <summary>A number member: <paramref name="target"/> is the Java class it converts to (Integer, Long, Double).</summary>
    public static string? ForNumber(RequestValue value, string target)
    {
        return value.Kind switch
        {
            RequestKind.Number => null,
            RequestKind.String => $"class java.lang.String can not be converted to an {target}",
            RequestKind.True or RequestKind.False => $"class java.lang.Boolean can not be converted to an {target}",
            RequestKind.Bytes => $"{BytesClass} can not be converted to an {target}",
            RequestKind.Array => ListNotExpected,
            _ => StructureNotExpected,
        };
    }

    public static string? ForBoolean(RequestValue value) => value.Kind switch
    {
        RequestKind.True or RequestKind.False => null,
        RequestKind.Number => $"{NumberClass} can not be converted to an Boolean",
        RequestKind.Bytes => $"{BytesClass} can not be converted to an Boolean",
        RequestKind.String => WireValues.ParseBoolean(value.GetString()) is null
            ? $"'{value.GetString().ToUpperInvariant()}' can not be converted to an Boolean"
            : null,
        RequestKind.Array => ListNotExpected,
        _ => StructureNotExpected,
    };


    public static string? ForBlob(RequestValue value)
    {
        switch (value.Kind)
        {
            case RequestKind.Bytes:
                return null; // CBOR carries blobs as they are
            case RequestKind.String:
                // Fast path for the common, valid case: vectorized, on the request bytes, no string made.
                if (value.Utf8 is var utf8 && utf8.Length % 4 == 0
                    && utf8.IndexOfAny(" \t\r\n"u8) < 0 && System.Buffers.Text.Base64.IsValid(utf8) && IsCanonical(utf8))
                    return null;
                string text = value.GetString();
                string prefix = $"'{text}' can not be converted to a Blob: ";
                if (text.Length % 4 != 0)
                    return prefix + $"Base64 encoded length is expected a multiple of 4 bytes but found: {text.Length.ToString(CultureInfo.InvariantCulture)}";
                for (int i = 0; i < text.Length; i++)
                {
                    char c = text[i];
                    bool valid = c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '+' or '/'
                        || (c == '=' && (i == text.Length - 1 || (i == text.Length - 2 && text[^1] == '=')));
                    if (!valid)
                        return prefix + $"Invalid Base64 character: '{c}'";
                }
                if (!IsCanonical(System.Text.Encoding.ASCII.GetBytes(text))) // only base64 characters remain here
                    return prefix + "Invalid last non-pad Base64 character dectected";
                return null;
            case RequestKind.Number:
                return $"{NumberClass} can not be converted to a Blob";
            case RequestKind.True or RequestKind.False:
                return "class java.lang.Boolean can not be converted to a Blob";
            case RequestKind.Array:
                return ListNotExpected;
            default:
                return StructureNotExpected;
        }
    }

    /// <summary>True when the unused low bits of the last base64 character are zero.</summary>
    private static bool IsCanonical(ReadOnlySpan<byte> utf8)
    {
        int padding = utf8.EndsWith("=="u8) ? 2 : utf8.EndsWith("="u8) ? 1 : 0;
        if (padding == 0)
            return true;
        if (utf8.Length - padding == 0)
            return false;
        byte last = utf8[utf8.Length - padding - 1];
        int sextet = last switch
        {
            >= (byte)'A' and <= (byte)'Z' => last - 'A',
            >= (byte)'a' and <= (byte)'z' => last - 'a' + 26,
            >= (byte)'0' and <= (byte)'9' => last - '0' + 52,
            (byte)'+' => 62,
            _ => 63,
        };
        return (sextet & (padding == 2 ? 0b1111 : 0b11)) == 0;
    }


    public static string? ForTimestamp(RequestValue value) => value.Kind switch
    {
        RequestKind.Number => null,
        RequestKind.String => "class java.lang.String can not be converted to milliseconds since epoch",
        RequestKind.True or RequestKind.False => "class java.lang.Boolean can not be converted to milliseconds since epoch",
        RequestKind.Bytes => $"{BytesClass} can not be converted to milliseconds since epoch",
        RequestKind.Array => ListNotExpected,
        _ => StructureNotExpected,
    };

    public static string? ForList(RequestKind kind) => kind switch
    {
        RequestKind.Array => null,
        RequestKind.Object => StructureNotExpected,
        _ => "Expected list or null",
    };

    public static string? ForMap(RequestKind kind) => kind switch
    {
        RequestKind.Object => null,
        RequestKind.Array => ListNotExpected,
        _ => "Expected map or null",
    };

    public static string? ForStructure(RequestKind kind) => kind switch
    {
        RequestKind.Object => null,
        RequestKind.Array => ListNotExpected,
        _ => "Expected null",
    };
}

/// <summary>Conversions AWS applies to member values.</summary>
public static class WireValues
{
    /// <summary>The strings AWS accepts for a boolean member.</summary>
    public static bool? ParseBoolean(string text) => text.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => null,
    };
}
