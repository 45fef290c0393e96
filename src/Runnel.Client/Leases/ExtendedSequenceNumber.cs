
namespace Runnel.Client.Leases;

/// <summary>
/// A position in a shard as the KCL checkpoints it: a Kinesis sequence number and the sub-sequence number of a user
/// record inside a KPL aggregate (0 for a record that is not aggregated), or a sentinel (<see cref="TrimHorizon"/>,
/// <see cref="Latest"/>, <see cref="AtTimestamp"/> for where a lease starts before anything is checkpointed,
/// <see cref="ShardEnd"/> once a closed shard is wholly processed). Ordered as the KCL orders them: AT_TIMESTAMP, then
/// TRIM_HORIZON, then LATEST below every sequence number, and SHARD_END above all; sub-sequence numbers break ties.
/// </summary>
/// <param name="SequenceNumber">The sequence number (decimal digits) or a sentinel's name.</param>
/// <param name="SubSequenceNumber">The user record's index within its aggregate.</param>
public readonly record struct ExtendedSequenceNumber(string SequenceNumber, long SubSequenceNumber = 0) : IComparable<ExtendedSequenceNumber>
{
    /// <summary>Before the oldest record the shard holds.</summary>
    public static ExtendedSequenceNumber TrimHorizon { get; } = new("TRIM_HORIZON");

    /// <summary>After the newest record when the lease is first read.</summary>
    public static ExtendedSequenceNumber Latest { get; } = new("LATEST");

    /// <summary>At the first record that arrived at or after the consumer's configured timestamp.</summary>
    public static ExtendedSequenceNumber AtTimestamp { get; } = new("AT_TIMESTAMP");

    /// <summary>The shard is closed and every record of it was processed: its children may be processed.</summary>
    public static ExtendedSequenceNumber ShardEnd { get; } = new("SHARD_END");

    /// <summary>Whether this is a sentinel rather than a record's position.</summary>
    public bool IsSentinel => SequenceNumber is "TRIM_HORIZON" or "LATEST" or "AT_TIMESTAMP" or "SHARD_END";

    /// <summary>Whether this is <see cref="ShardEnd"/>.</summary>
    public bool IsShardEnd => SequenceNumber == "SHARD_END";

    /// <inheritdoc />
    public int CompareTo(ExtendedSequenceNumber other)
    {
        int byNumber = CompareNumbers(SequenceNumber, other.SequenceNumber);
        return byNumber != 0 ? byNumber : SubSequenceNumber.CompareTo(other.SubSequenceNumber);
    }

    /// <summary>Whether <paramref name="left"/> comes before <paramref name="right"/>.</summary>
    public static bool operator <(ExtendedSequenceNumber left, ExtendedSequenceNumber right) => left.CompareTo(right) < 0;

    /// <summary>Whether <paramref name="left"/> comes after <paramref name="right"/>.</summary>
    public static bool operator >(ExtendedSequenceNumber left, ExtendedSequenceNumber right) => left.CompareTo(right) > 0;

    /// <summary>Whether <paramref name="left"/> comes before or is <paramref name="right"/>.</summary>
    public static bool operator <=(ExtendedSequenceNumber left, ExtendedSequenceNumber right) => left.CompareTo(right) <= 0;

    /// <summary>Whether <paramref name="left"/> comes after or is <paramref name="right"/>.</summary>
    public static bool operator >=(ExtendedSequenceNumber left, ExtendedSequenceNumber right) => left.CompareTo(right) >= 0;

    /// <summary>The sequence number, then the sub-sequence number when it is not 0.</summary>
    public override string ToString() => SubSequenceNumber == 0 ? SequenceNumber : $"{SequenceNumber}.{SubSequenceNumber}";

    // Sequence numbers are decimals of up to 128 bits (compared as digit strings: a consumer compares one per record
    // it reads); the sentinels sit below them (in the KCL's order) or above them all.
    private static int CompareNumbers(string left, string right)
    {
        int leftRank = Rank(left), rightRank = Rank(right);
        if (leftRank != 0 || rightRank != 0)
            return leftRank.CompareTo(rightRank);
        var a = left.AsSpan().TrimStart('0');
        var b = right.AsSpan().TrimStart('0');
        return a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.SequenceCompareTo(b);
    }

    /// <summary>A sentinel's place (below or above every number), 0 for a number.</summary>
    /// <exception cref="FormatException">Neither a number nor a sentinel.</exception>
    private static int Rank(string sequenceNumber) => sequenceNumber switch
    {
        "AT_TIMESTAMP" => -3,
        "TRIM_HORIZON" => -2,
        "LATEST" => -1,
        "SHARD_END" => 1,
        _ when sequenceNumber.Length > 0 && !sequenceNumber.AsSpan().ContainsAnyExceptInRange('0', '9') => 0,
        _ => throw new FormatException($"'{sequenceNumber}' is neither a sequence number nor TRIM_HORIZON, LATEST, AT_TIMESTAMP or SHARD_END"),
    };
}
