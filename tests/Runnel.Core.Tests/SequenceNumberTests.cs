using System.Numerics;
using Runnel.Core.Model;

namespace Runnel.Core.Tests;

public class SequenceNumberTests
{
    private const long Now = 1_800_000_000;

    [Fact]
    public void Round_trips_through_its_decimal_form()
    {
        var original = new SequenceNumber(1_796_217_481, 17, 123_456_789, 1_796_217_999);
        string text = original.ToString();
        Assert.Equal(SequenceNumber.Length, text.Length);
        Assert.True(DecodedSequenceNumber.TryDecode(text, Now, out var decoded));
        Assert.Equal(new DecodedSequenceNumber(SequenceLayout.AwsVersion2, 1_796_217_481, 17, 123_456_789, 1_796_217_999, text), decoded);
    }

    [Fact]
    public void Writes_the_hexadecimal_fields_of_AWS_layout()
    {
        // AWS's own example decodes to shard 6, shard time 1542776258, counter 1734642199, record time 1545084650.
        const string aws = "49590338271490256608559692538361571095921575989136588898";
        Assert.Equal(aws, new SequenceNumber(1_542_776_258, 6, 1_734_642_199, 1_545_084_650).ToString());
        string hex = BigInteger.Parse(new SequenceNumber(0x123456789, 0x7abcdef1, 0x0fedcba987654321, 0x9abcdef01).ToString()).ToString("x").TrimStart('0');
        Assert.Equal("2" + "123456789" + "1" + "0fedcba987654321" + "00" + "9abcdef01" + "7abcdef1" + "2", hex);
    }

    [Fact]
    public void Writing_the_next_number_over_the_previous_one_gives_its_full_form()
    {
        // Every carry length occurs over a million consecutive counters; time, shard and gaps force a full write.
        Span<byte> incremental = stackalloc byte[SequenceNumber.Length];
        Span<byte> full = stackalloc byte[SequenceNumber.Length];
        SequenceNumber previous = default;
        for (ulong counter = 1; counter < 1_000_000; counter += counter % 99_991 == 0 ? 2UL : 1UL)
        {
            var number = new SequenceNumber(1_796_217_481, counter % 250_000 == 0 ? 4 : 15, counter, 1_796_217_481 + (long)(counter / 70_000));
            number.FormatUtf8After(previous, incremental);
            number.FormatUtf8(full);
            Assert.True(incremental.SequenceEqual(full), $"counter {counter}");
            previous = number;
        }
    }

    [Fact]
    public void Writing_the_next_number_carries_through_every_digit_position()
    {
        // Counters from all over the 64-bit range (and runs of nines), each followed by the next: carries of every
        // length, into the digits above the counter's too.
        var random = new Random(20261203);
        Span<byte> incremental = stackalloc byte[SequenceNumber.Length];
        Span<byte> full = stackalloc byte[SequenceNumber.Length];
        for (int i = 0; i < 200_000; i++)
        {
            ulong counter = (ulong)random.NextInt64(1, long.MaxValue) >> random.Next(0, 63);
            var previous = new SequenceNumber(random.NextInt64(0, SequenceNumber.MaxSeconds), random.Next(), Math.Max(counter, 1), random.NextInt64(0, SequenceNumber.MaxSeconds));
            var number = previous with { Counter = previous.Counter + 1 };
            previous.FormatUtf8(incremental);
            number.FormatUtf8After(previous, incremental);
            number.FormatUtf8(full);
            Assert.True(incremental.SequenceEqual(full), $"{previous} then {number}");
        }
    }

    [Fact]
    public void The_decimal_step_adds_two_to_the_eightieth_to_any_digits_nines_included()
    {
        // The step adds 2^80 to whatever digits it is given: checked on digit strings with runs of nines at every
        // place, so that carries cross each eight-digit group and run on into the digits above them.
        var previous = new SequenceNumber(1_796_217_481, 3, 41, 1_796_217_481);
        var number = previous with { Counter = 42 };
        var random = new Random(56);
        Span<byte> digits = stackalloc byte[SequenceNumber.Length];
        for (int i = 0; i < 20_000; i++)
        {
            for (int d = 0; d < digits.Length; d++)
                digits[d] = (byte)('0' + random.Next(10));
            digits[0] = (byte)('1' + random.Next(8)); // no carry out of the 56 digits
            int from = random.Next(1, digits.Length), to = random.Next(from, digits.Length + 1);
            digits[from..to].Fill((byte)'9');
            var before = BigInteger.Parse(System.Text.Encoding.ASCII.GetString(digits));
            number.FormatUtf8After(previous, digits);
            Assert.Equal((before + BigInteger.Pow(2, 80)).ToString("D56"), System.Text.Encoding.ASCII.GetString(digits));
        }
    }

    [Fact]
    public void Every_value_has_56_digits()
    {
        Assert.Equal(56, new SequenceNumber(0, 0, 0, 0).ToString().Length);
        Assert.Equal(56, new SequenceNumber(SequenceNumber.MaxSeconds, int.MaxValue, long.MaxValue, SequenceNumber.MaxSeconds).ToString().Length);
    }

    [Fact]
    public void String_order_integer_order_and_CompareTo_agree()
    {
        var numbers = new[]
        {
            new SequenceNumber(5, 0, 0, 5), new SequenceNumber(5, 0, 1, 5), new SequenceNumber(5, 0, 1, 9), new SequenceNumber(5, 0, 10, 6),
            new SequenceNumber(5, 16, 10, 6), new SequenceNumber(5, 1, 0, 5), new SequenceNumber(5, 2, long.MaxValue, 9), new SequenceNumber(6, 0, 0, 6),
        };
        for (int i = 1; i < numbers.Length; i++)
        {
            string a = numbers[i - 1].ToString(), b = numbers[i].ToString();
            Assert.True(string.CompareOrdinal(a, b) < 0, $"{a} < {b} as strings");
            Assert.True(BigInteger.Parse(a) < BigInteger.Parse(b), $"{a} < {b} as integers");
            Assert.True(numbers[i - 1].CompareTo(numbers[i]) < 0, $"{numbers[i - 1]} < {numbers[i]}");
        }
    }

    [Fact]
    public void Within_a_shard_the_counter_orders_whatever_the_record_time()
    {
        // A clock that steps back must not make a later record's number smaller.
        var earlier = new SequenceNumber(100, 3, 7, 500);
        var later = new SequenceNumber(100, 3, 8, 400);
        Assert.True(BigInteger.Parse(later.ToString()) > BigInteger.Parse(earlier.ToString()));
    }

    [Fact]
    public void Children_sort_above_every_parent_record()
    {
        // Shard 15 split into 16 and 17 in the same second: the child's index digit (0) is below the parent's (f),
        // so only the raised shard time keeps the child above.
        var stream = new StreamInfo("s", 1, StreamStatus.Active, StreamMode.Provisioned, 24, DateTimeOffset.FromUnixTimeSeconds(Now), null,
            Enumerable.Range(0, 16).Select(i => new ShardInfo(i, HashKeyRange.SplitEvenly(16)[i], 0, null, null, null, DateTimeOffset.FromUnixTimeSeconds(Now), null)).ToList(),
            new Dictionary<string, string>(), [], 0);
        var parent = stream.Shards[15];
        var plan = Resharding.Split(stream, parent, parent.HashKeyRange.Start + 1000, DateTimeOffset.FromUnixTimeSeconds(Now));
        var lastOfParent = parent.SequenceOf(long.MaxValue - 1, (Now + 1) * 1000);
        foreach (var child in plan.Create)
        {
            Assert.Equal(Now + 1, child.SequenceSeconds);
            Assert.True(BigInteger.Parse(child.StartingSequenceNumber.ToString()) > BigInteger.Parse(lastOfParent.ToString()));
        }
        var merged = Resharding.Merge(stream with { Shards = [.. stream.Shards, .. plan.Create] }, plan.Create[0], plan.Create[1], DateTimeOffset.FromUnixTimeSeconds(Now));
        Assert.Equal(Now + 2, merged.Create[0].SequenceSeconds);
    }

    [Theory]
    // AWS's first layout: small numbers are read as if 2^124 were added, and quoted in full.
    [InlineData("0", SequenceLayout.AwsVersion0, 0, "21267647932558653966460912964485513216")]
    [InlineData("5", SequenceLayout.AwsVersion0, 5, "21267647932558653966460912964485513221")]
    [InlineData("425352958651173072921826052383309826", SequenceLayout.AwsVersion0, 2, "21693000891209827039382739016868823042")]
    // A version 0 number whose first hexadecimal digit is not 1 is quoted with it replaced by 1.
    [InlineData("323974270430642978495705530411780079616", SequenceLayout.AwsVersion0, 0, "26227199374821822965252748908982894592")]
    [InlineData("49590338271490256608559692538361571095921575989136588898", SequenceLayout.AwsVersion2, 6, "49590338271490256608559692538361571095921575989136588898")]
    public void Decodes_AWS_layouts(string text, SequenceLayout layout, int shardIndex, string quoted)
    {
        Assert.True(DecodedSequenceNumber.TryDecode(text, Now, out var decoded));
        Assert.Equal(layout, decoded.Layout);
        Assert.Equal(shardIndex, decoded.ShardIndex);
        Assert.Equal(quoted, decoded.Text);
    }

    [Fact]
    public void Decodes_the_former_43_digit_layout()
    {
        Assert.True(DecodedSequenceNumber.TryDecode("4179621748100000000000100000000000000000004", Now, out var decoded));
        Assert.Equal(new DecodedSequenceNumber(SequenceLayout.RunnelLegacy, 1_796_217_481, 1, 4, null, "4179621748100000000000100000000000000000004"), decoded);
        Assert.Equal(3UL, decoded.AtOffset);
        Assert.Equal(4UL, decoded.AfterOffset);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("01")]
    [InlineData("12a")]
    // version 0 with a time of 16025175000 seconds or more
    [InlineData("26227199374822427428162556223570313216")]
    // version 2 with the counter's or the shard index's top bit set
    [InlineData("49039857307719593840066370180380661734935976090628259842")]
    [InlineData("49039857307708443467467104868809893875799651944235008002")]
    // version 3, and a number between the layouts
    [InlineData("49039857307708443467467104868809893875799651909875269635")]
    [InlineData("100000000000000000000000000000000000000000000")]
    // a record time after now
    [InlineData("49039857307708443467467104868809898598166134710801006594")]
    public void Refuses_what_AWS_calls_invalid(string? text) => Assert.False(DecodedSequenceNumber.TryDecode(text, Now, out _));

    [Theory]
    [InlineData("13bb2cc3d80000000000000000000000", "26227199374822427428162556223570313216")]
    [InlineData("f3bb2cc3d7ff7fffffffffffffff0000", "323974270430642978495705530411780079616")]
    [InlineData("20000000000800000000000000000000000000000000002", "49039857307719593840066370180380661734935976090628259842")]
    [InlineData("20000000000000000000000000000000000000800000002", "49039857307708443467467104868809893875799651944235008002")]
    [InlineData("20000000000000000000000000000000000000000000003", "49039857307708443467467104868809893875799651909875269635")]
    [InlineData("20000000000000000000000000000fffffffff000000002", "49039857307708443467467104868809898598166134710801006594")]
    public void The_examples_are_the_hexadecimal_numbers_they_claim(string hex, string text) =>
        Assert.Equal(BigInteger.Parse("0" + hex, System.Globalization.NumberStyles.HexNumber), BigInteger.Parse(text));
}
