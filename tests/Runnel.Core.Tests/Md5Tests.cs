using System.Text;
using Runnel.Core.Hashing;

namespace Runnel.Core.Tests;

public class Md5Tests
{
    private static string Hex(ReadOnlySpan<byte> data)
    {
        Span<byte> digest = stackalloc byte[Md5.DigestBytes];
        Md5.Hash(data, digest);
        return Convert.ToHexStringLower(digest);
    }

    [Theory] // RFC 1321, appendix A.5
    [InlineData("", "d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("a", "0cc175b9c0f1b6a831c399e269772661")]
    [InlineData("abc", "900150983cd24fb0d6963f7d28e17f72")]
    [InlineData("message digest", "f96b697d7cb7938d525a2f31aaf161d0")]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f")]
    [InlineData("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a")]
    public void Gives_the_reference_digests(string input, string expected) =>
        Assert.Equal(expected, Hex(Encoding.ASCII.GetBytes(input)));

    [Fact]
    public void Agrees_with_the_framework_at_every_length_around_the_block_and_padding_edges()
    {
        var random = new Random(1321);
        for (int length = 0; length <= 300; length++)
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(data)), Hex(data));
        }
    }

    [Fact]
    public void Agrees_with_the_framework_on_random_inputs_and_slices()
    {
        var random = new Random(20261203);
        var pool = new byte[70_000];
        random.NextBytes(pool);
        for (int i = 0; i < 5_000; i++)
        {
            int length = i % 10 == 0 ? random.Next(0, 65_536) : random.Next(0, 257);
            var slice = pool.AsSpan(random.Next(0, pool.Length - length), length); // unaligned starts
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(slice)), Hex(slice));
        }
    }

    [Fact]
    public void Refuses_a_digest_buffer_that_is_too_small() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Md5.Hash([1, 2, 3], new byte[15]));
}
