using System.Globalization;
using System.Numerics;
using Runnel.Core.Hashing;
using Runnel.Core.Model;

namespace Runnel.Core.Tests;

public class HashKeyTests
{
    [Fact]
    public void Partition_key_hashes_to_md5_read_as_a_big_endian_integer()
    {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661 (RFC 1321 test suite).
        var expected = UInt128.Parse("0cc175b9c0f1b6a831c399e269772661", NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.Equal(expected, HashKey.FromPartitionKey("a"));
    }

    [Fact]
    public void Non_ascii_partition_keys_hash_their_utf8_bytes()
    {
        var expected = System.Security.Cryptography.MD5.HashData("ключ-鍵"u8);
        Assert.Equal(HashKey.ReadBigEndian(expected), HashKey.FromPartitionKey("ключ-鍵"));
    }

    [Theory]
    [InlineData("0", true)]
    [InlineData("340282366920938463463374607431768211455", true)]
    [InlineData("340282366920938463463374607431768211456", false)]
    [InlineData("-1", false)]
    [InlineData("1e5", false)]
    [InlineData("", false)]
    public void Explicit_hash_keys_must_lie_in_0_to_2_pow_128_minus_1(string text, bool valid)
    {
        Assert.Equal(valid, HashKey.TryParseDecimal(text, out var value));
        if (valid)
            Assert.Equal(BigInteger.Parse(text, CultureInfo.InvariantCulture), (BigInteger)value);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(500)]
    public void Even_split_tiles_the_whole_key_space(int count)
    {
        var ranges = HashKeyRange.SplitEvenly(count);
        Assert.Equal(count, ranges.Length);
        Assert.Equal(UInt128.Zero, ranges[0].Start);
        Assert.Equal(UInt128.MaxValue, ranges[^1].End);
        for (int i = 1; i < count; i++)
            Assert.Equal(ranges[i - 1].End + 1, ranges[i].Start);
        var width = (BigInteger.One << 128) / count;
        for (int i = 0; i < count - 1; i++)
            Assert.Equal(width, (BigInteger)ranges[i].End - (BigInteger)ranges[i].Start + 1);
    }

    [Fact]
    public void Three_shards_split_where_aws_splits_them()
    {
        var ranges = HashKeyRange.SplitEvenly(3);
        Assert.Equal("113427455640312821154458202477256070484", ranges[0].EndingHashKey);
        Assert.Equal("113427455640312821154458202477256070485", ranges[1].StartingHashKey);
        Assert.Equal("226854911280625642308916404954512140969", ranges[1].EndingHashKey);
        Assert.Equal("226854911280625642308916404954512140970", ranges[2].StartingHashKey);
    }

    [Fact]
    public void Range_edges_are_inclusive()
    {
        var range = new HashKeyRange(10, 20);
        Assert.True(range.Contains(10));
        Assert.True(range.Contains(20));
        Assert.False(range.Contains(9));
        Assert.False(range.Contains(21));
        Assert.True(HashKeyRange.Whole.Contains(UInt128.MaxValue));
    }
}
