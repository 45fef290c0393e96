using System.Globalization;
using CsCheck;
using Runnel.Core.Iterators;
using Runnel.Core.Model;

namespace Runnel.Core.Tests.Properties;

/// <summary>
/// Bad input at scale for the tokens clients hand back: shard iterators and sequence numbers. Any string is decoded
/// or refused (false), never thrown on; what was encoded decodes to itself; an iterator altered anywhere, or signed
/// with another key, is refused. Iterations: <c>RUNNEL_PROPERTY_ITERATIONS</c> (20,000 by default; millions by hand,
/// docs/reliability.md).
/// </summary>
public sealed class TokenProperties
{
    private static long Iterations =>
        long.TryParse(Environment.GetEnvironmentVariable("RUNNEL_PROPERTY_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 ? n : 20_000;

    private static readonly ShardIteratorCodec Codec = new(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());

    private static readonly Gen<ShardPosition> Positions = Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 128], Gen.Long[0, long.MaxValue],
        Gen.Int[0, 100_000], Gen.ULong, Gen.Long[0, 4_102_444_800_000], (name, id, shard, offset, issued) => new ShardPosition(name, id, shard, offset, issued));

    [Fact]
    public void Iterators_round_trip_and_any_altered_character_is_refused() =>
        Gen.Select(Positions, Gen.Int, Gen.Char.AlphaNumeric, (position, at, replacement) => (position, at, replacement)).Sample(t =>
        {
            string token = Codec.Encode(t.position);
            Assert.True(Codec.TryDecode(token, out var decoded));
            Assert.Equal(t.position, decoded);
            var altered = token.ToCharArray();
            int index = (int)((uint)t.at % (uint)altered.Length);
            if (altered[index] == t.replacement)
                return;
            altered[index] = t.replacement;
            if (Codec.TryDecode(new string(altered), out var wrong))
                Assert.Equal(t.position, wrong); // base64 padding bits: the same bytes, the same position
        }, iter: Iterations);

    [Fact]
    public void Any_string_is_decoded_or_refused_as_an_iterator_never_thrown_on() =>
        Gen.String[Gen.Char, 0, 400].Sample(text => { _ = Codec.TryDecode(text, out _); }, iter: Iterations);

    [Fact]
    public void An_iterator_signed_with_another_key_is_refused() =>
        Positions.Sample(position =>
            Assert.False(new ShardIteratorCodec(new byte[32]).TryDecode(Codec.Encode(position), out _)), iter: Iterations / 10);

    [Fact]
    public void Any_string_is_decoded_or_refused_as_a_sequence_number_never_thrown_on() =>
        Gen.Frequency((1, Gen.String[Gen.Char, 0, 140]), (3, Gen.String[Gen.Char['0', '9'], 0, 140])).Sample(text =>
        {
            _ = DecodedSequenceNumber.TryDecode(text, 4_102_444_800, out _);
        }, iter: Iterations);

    [Fact]
    public void Sequence_numbers_written_are_read_back_as_the_same_fields() =>
        Gen.Select(Gen.Long[0, SequenceNumber.MaxSeconds], Gen.Int[0, 100_000], Gen.ULong[0, ulong.MaxValue / 2], Gen.Long[0, SequenceNumber.MaxSeconds],
            (shardSeconds, index, counter, recordSeconds) => new SequenceNumber(shardSeconds, index, counter, Math.Max(shardSeconds, recordSeconds))).Sample(number =>
        {
            string text = number.ToString();
            Assert.Equal(SequenceNumber.Length, text.Length);
            Assert.True(DecodedSequenceNumber.TryDecode(text, SequenceNumber.MaxSeconds, out var decoded), text);
            Assert.Equal((number.ShardSeconds, number.ShardIndex, number.Counter), (decoded.ShardSeconds, decoded.ShardIndex, decoded.Counter));
        }, iter: Iterations);
}
