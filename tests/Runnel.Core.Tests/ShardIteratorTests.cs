using Runnel.Core.Iterators;
using Runnel.Core.Model;

namespace Runnel.Core.Tests;

public class ShardIteratorTests
{
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

    [Fact]
    public void Round_trips_a_position()
    {
        var codec = new ShardIteratorCodec(Key);
        var position = new ShardPosition(new string('s', 128), 42, 7, 123456, 1_700_000_000_000);
        string token = codec.Encode(position);
        Assert.True(token.Length <= 512);
        Assert.True(codec.TryDecode(token, out var decoded));
        Assert.Equal(position, decoded);
    }

    [Fact]
    public void Rejects_a_token_with_any_byte_changed()
    {
        var codec = new ShardIteratorCodec(Key);
        var bytes = Convert.FromBase64String(codec.Encode(new ShardPosition("orders", 1, 0, 5, 1)));
        for (int i = 0; i < bytes.Length; i++)
        {
            var tampered = (byte[])bytes.Clone();
            tampered[i] ^= 0x01;
            Assert.False(codec.TryDecode(Convert.ToBase64String(tampered), out _), $"byte {i}");
        }
    }

    [Fact]
    public void Rejects_tokens_signed_with_another_key_and_garbage()
    {
        var token = new ShardIteratorCodec(Key).Encode(new ShardPosition("orders", 1, 0, 5, 1));
        var other = new ShardIteratorCodec(Enumerable.Repeat((byte)7, 32).ToArray());
        Assert.False(other.TryDecode(token, out _));
        Assert.False(other.TryDecode("not base64 !", out _));
        Assert.False(other.TryDecode("", out _));
        Assert.False(other.TryDecode(new string('A', 600), out _));
    }

    [Theory]
    [InlineData("shardId-000000000007", 7)]
    [InlineData("shardId-7", 7)]
    [InlineData("7", 7)]
    public void Shard_ids_parse_loosely_and_format_with_12_digits(string text, int index)
    {
        Assert.True(ShardId.TryParse(text, out int parsed));
        Assert.Equal(index, parsed);
        Assert.Equal("shardId-000000000007", ShardId.Format(parsed));
    }
}
