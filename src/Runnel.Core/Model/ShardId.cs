using System.Globalization;

namespace Runnel.Core.Model;

/// <summary>
/// Shard ids have the Kinesis form <c>shardId-000000000007</c>: a prefix and a 12-digit index that is
/// unique within a stream and never reused.
/// </summary>
public static class ShardId
{
    public const string Prefix = "shardId-";

    // The ids of the first shards, made once each (answers and /metrics name them over and over).
    private static readonly string?[] Made = new string?[8192];

    public static string Format(int index) =>
        (uint)index < (uint)Made.Length ? Made[index] ??= Make(index) : Make(index);

    private static string Make(int index) => Prefix + index.ToString("D12", CultureInfo.InvariantCulture);

    /// <summary>
    /// Parses a shard id. Like AWS, a bare number or a differently padded id is accepted
    /// (<c>shardId-1</c> and <c>1</c> both name shard 1).
    /// </summary>
    public static bool TryParse(string text, out int index)
    {
        index = -1;
        ReadOnlySpan<char> digits = text.AsSpan();
        if (digits.StartsWith(Prefix, StringComparison.Ordinal))
            digits = digits[Prefix.Length..];
        if (digits.Length == 0 || digits.Length > 20)
            return false;
        foreach (char c in digits)
            if (c is < '0' or > '9')
                return false;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value > int.MaxValue)
            return false;
        index = (int)value;
        return true;
    }
}
