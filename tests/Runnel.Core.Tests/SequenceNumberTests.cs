using System.Numerics;
using Runnel.Core.Model;

namespace Runnel.Core.Tests;

public class SequenceNumberTests
{
    [Fact]
    public void Round_trips_through_its_decimal_form()
    {
        var original = new SequenceNumber(3, 17, 123456789);
        string text = original.ToString();
        Assert.Equal(SequenceNumber.Length, text.Length);
        Assert.True(SequenceNumber.TryParse(text, out var parsed));
        Assert.Equal(original, parsed);
    }

    [Fact]
    public void String_order_integer_order_and_offset_order_agree()
    {
        var numbers = new[]
        {
            new SequenceNumber(0, 0, 0), new SequenceNumber(0, 0, 1), new SequenceNumber(0, 0, 9),
            new SequenceNumber(0, 0, 10), new SequenceNumber(0, 1, 0), new SequenceNumber(1, 0, 0),
            new SequenceNumber(1, 2, ulong.MaxValue),
        };
        for (int i = 1; i < numbers.Length; i++)
        {
            string a = numbers[i - 1].ToString(), b = numbers[i].ToString();
            Assert.True(string.CompareOrdinal(a, b) < 0, $"{a} < {b} as strings");
            Assert.True(BigInteger.Parse(a) < BigInteger.Parse(b), $"{a} < {b} as integers");
            Assert.True(numbers[i - 1].CompareTo(numbers[i]) < 0);
        }
    }

    [Fact]
    public void Children_sort_above_every_parent_record()
    {
        // A child is created no earlier than its parent and always gets a larger shard index.
        var lastOfParent = new SequenceNumber(1_700_000_000, 3, ulong.MaxValue);
        var firstOfChild = new SequenceNumber(1_700_000_000, 4, 0);
        Assert.True(BigInteger.Parse(firstOfChild.ToString()) > BigInteger.Parse(lastOfParent.ToString()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("49590338271490256608559692538361571095921575989136588898")]
    [InlineData("400000000000000000000000000000000000000000x")]
    [InlineData("5000000000000000000000000000000000000000000")]
    public void Rejects_what_it_did_not_issue(string? text) => Assert.False(SequenceNumber.TryParse(text, out _));

    [Fact]
    public void Is_positive_even_for_the_first_record()
    {
        Assert.True(BigInteger.Parse(new SequenceNumber(0, 0, 0).ToString()) > 0);
    }
}
