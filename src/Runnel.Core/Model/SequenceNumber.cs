namespace Runnel.Core.Model;

/// <summary>
/// A record's sequence number in AWS's layout (version 2): one 188-bit number, written as 56 decimal digits,
/// whose hexadecimal form (47 digits) reads, from the most significant end:
/// <code>
///   2 | shard seconds (9) | shard index mod 16 (1) | counter (16) | 00 (2) | record seconds (9) | shard index (8) | 2
/// </code>
/// The counter is the record's offset in its shard's log plus one; counter 0 is the shard's
/// StartingSequenceNumber, below every record, so that AFTER_SEQUENCE_NUMBER at a shard's start returns its
/// first record as on AWS. The counter sits above the record's time, so sequence numbers grow strictly with
/// the offset within a shard whatever the clock does. The shard seconds (<see cref="ShardInfo.SequenceSeconds"/>)
/// are the shard's creation time, raised where needed so that a child's are above its parents': every child
/// sequence number is then above every parent sequence number. The layout is documented in
/// docs/formats/sequence-numbers.md; <see cref="DecodedSequenceNumber"/> reads what clients send.
/// </summary>
public readonly record struct SequenceNumber(long ShardSeconds, int ShardIndex, ulong Counter, long RecordSeconds) : IComparable<SequenceNumber>
{
    /// <summary>Every sequence number of this layout has 56 decimal digits (its value lies in [2^185, 1.5 * 2^185)).</summary>
    public const int Length = 56;

    /// <summary>The layout version, in the lowest hexadecimal digit.</summary>
    public const int Version = 2;

    /// <summary>The largest seconds value the layout holds (nine hexadecimal digits).</summary>
    public const long MaxSeconds = (1L << 36) - 1;

    /// <summary>The offset an AT_SEQUENCE_NUMBER iterator starts at (the shard's start for its StartingSequenceNumber).</summary>
    public ulong AtOffset => Counter == 0 ? 0 : Counter - 1;

    /// <summary>The offset an AFTER_SEQUENCE_NUMBER iterator starts at.</summary>
    public ulong AfterOffset => Counter;

    public override string ToString()
    {
        Span<byte> digits = stackalloc byte[Length];
        FormatUtf8(digits);
        return System.Text.Encoding.ASCII.GetString(digits);
    }

    /// <summary>Writes the 56 ASCII digits into <paramref name="destination"/> (for response writers; no string made).</summary>
    public int FormatUtf8(Span<byte> destination)
    {
        // The number as six 32-bit limbs, least significant first, then eight digits at a time by long division.
        ulong shardSeconds = (ulong)ShardSeconds & MaxSeconds, recordSeconds = (ulong)RecordSeconds & MaxSeconds, index = (uint)ShardIndex;
        ulong w0 = Version | index << 4 | (recordSeconds & 0xFFF_FFFF) << 36;
        ulong w1 = recordSeconds >> 28 | (Counter & 0xFFFF_FFFF_FFFF) << 16; // bits 72-79 (the 00 byte) stay zero
        ulong w2 = Counter >> 48 | (index & 0xF) << 16 | shardSeconds << 20 | 2UL << 56;
        Span<uint> limbs = [(uint)w0, (uint)(w0 >> 32), (uint)w1, (uint)(w1 >> 32), (uint)w2, (uint)(w2 >> 32)];
        const uint Chunk = 100_000_000;
        for (int end = Length; end > 0; end -= 8)
        {
            ulong remainder = 0;
            for (int i = limbs.Length - 1; i >= 0; i--)
            {
                ulong current = remainder << 32 | limbs[i];
                limbs[i] = (uint)(current / Chunk);
                remainder = current % Chunk;
            }
            for (int d = end - 1; d >= end - 8; d--)
            {
                destination[d] = (byte)('0' + remainder % 10);
                remainder /= 10;
            }
        }
        return Length;
    }

    /// <summary>
    /// Writes this number over <paramref name="digits"/>, which hold the 56 digits of <paramref name="previous"/>
    /// (or anything, when <paramref name="previous"/> is default). The next record of the same shard in the same
    /// second differs by 2^80 (one counter step), which is added in decimal: a batch of records costs a few
    /// digit additions each instead of a 188-bit conversion.
    /// </summary>
    public void FormatUtf8After(SequenceNumber previous, Span<byte> digits)
    {
        if (Counter != previous.Counter + 1 || previous.Counter == 0 || ShardSeconds != previous.ShardSeconds
            || RecordSeconds != previous.RecordSeconds || ShardIndex != previous.ShardIndex)
        {
            FormatUtf8(digits);
            return;
        }
        // 2^80 = 1208925819614629174706176 (25 digits, ending at the last) is added eight digits at a time.
        ulong carry = AddDigits(digits.Slice(48, 8), 0x07_04_07_00_06_01_07_06, 0); // ...74706176
        carry = AddDigits(digits.Slice(40, 8), 0x09_06_01_04_06_02_09_01, carry); // ...96146291..
        carry = AddDigits(digits.Slice(32, 8), 0x02_00_08_09_02_05_08_01, carry); // ...20892581..
        carry = AddDigits(digits.Slice(24, 8), 0x00_00_00_00_00_00_00_01, carry); // 1...
        for (int i = 23; carry != 0; i--)
        {
            int sum = digits[i] - '0' + 1;
            carry = sum == 10 ? 1UL : 0UL;
            digits[i] = (byte)('0' + (sum == 10 ? 0 : sum));
        }
    }

    /// <summary>
    /// Adds <paramref name="addend"/> (eight digit values, one a byte, the most significant in the highest byte) and
    /// <paramref name="carry"/> to eight ASCII digits in place, in one 64-bit addition; returns the carry out.
    /// Each byte is biased by 246 so that a digit sum of 10 or more overflows into the next byte, as a decimal
    /// carry does (a run of nines carries through); a byte that did not overflow still holds the bias, which its
    /// high bit shows, and loses it after.
    /// </summary>
    private static ulong AddDigits(Span<byte> eight, ulong addend, ulong carry)
    {
        const ulong Zeros = 0x3030_3030_3030_3030, Bias = 0xF6F6_F6F6_F6F6_F6F6, High = 0x8080_8080_8080_8080;
        ulong sum = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(eight) - Zeros + addend + carry; // each byte at most 19
        ulong biased = sum + Bias;
        ulong carryOut = biased < sum ? 1UL : 0UL;
        ulong unbiased = biased - (((biased & High) >> 7) * 0xF6);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(eight, unbiased + Zeros);
        return carryOut;
    }

    /// <summary>Orders as the 188-bit numbers do.</summary>
    public int CompareTo(SequenceNumber other)
    {
        int c = ShardSeconds.CompareTo(other.ShardSeconds);
        if (c == 0) c = (ShardIndex & 0xF).CompareTo(other.ShardIndex & 0xF);
        if (c == 0) c = Counter.CompareTo(other.Counter);
        if (c == 0) c = RecordSeconds.CompareTo(other.RecordSeconds);
        return c != 0 ? c : ShardIndex.CompareTo(other.ShardIndex);
    }
}
