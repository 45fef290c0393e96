using System.Runtime.InteropServices;
using System.Text.Json;

namespace Runnel.Protocol.Json;

/// <summary>
/// Reads base64 blob members straight from the request's UTF-8 bytes, without making a string of them
/// (a PutRecords request carries 500). Falls back to the string when the JSON escapes characters.
/// </summary>
public static class JsonBlob
{
    /// <summary>The base64 text of a string member as UTF-8, quotes removed; false when it contains escapes.</summary>
    public static bool TryGetUtf8(JsonElement value, out ReadOnlySpan<byte> base64)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        base64 = raw.Length >= 2 ? raw[1..^1] : ReadOnlySpan<byte>.Empty;
        return raw.Length >= 2 && base64.IndexOf((byte)'\\') < 0;
    }

    /// <summary>The number of bytes the base64 text of <paramref name="value"/> decodes to.</summary>
    public static long DecodedLength(JsonElement value)
    {
        if (TryGetUtf8(value, out var base64))
            return DecodedLength(base64.Length, base64.Length > 0 && base64[^1] == '=', base64.Length > 1 && base64[^2] == '=');
        string text = value.GetString()!;
        return DecodedLength(text.Length, text.EndsWith('='), text.EndsWith("==", StringComparison.Ordinal));
    }

    private static long DecodedLength(int length, bool onePad, bool twoPads) =>
        length == 0 ? 0 : (long)length * 3 / 4 - (twoPads ? 2 : onePad ? 1 : 0);
}
