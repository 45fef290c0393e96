using System.Numerics;
using System.Text.Json;
using Runnel.Core.Model;

namespace Runnel.Server.Tests;

/// <summary>
/// Sequence numbers on the wire: AWS's 56-digit layout in every answer, AWS's checks and messages where a client
/// sends one (GetShardIterator, SubscribeToShard, PutRecord's SequenceNumberForOrdering), order within a shard.
/// </summary>
public class SequenceNumberTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private const string Account = "000000000000";

    private async Task<(string Stream, JsonElement Shard)> StreamAsync(int shards = 2)
    {
        string stream = await server.CreateStreamAsync("seq", shards);
        var shard = (await server.OkAsync("ListShards", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("Shards")[0];
        return (stream, shard);
    }

    private async Task<string> PutAsync(string stream, string hashKey = "0") =>
        (await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","ExplicitHashKey":"{{hashKey}}","Data":""}""")).GetProperty("SequenceNumber").GetString()!;

    private async Task<string> IteratorErrorAsync(string stream, string sequence, string shard = "shardId-000000000000")
    {
        var (status, body) = await server.CallAsync("GetShardIterator",
            $$"""{"StreamName":"{{stream}}","ShardId":"{{shard}}","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"{{sequence}}"}""");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
        Assert.Equal("InvalidArgumentException", body.GetProperty("__type").GetString());
        return body.GetProperty("message").GetString()!;
    }

    [Fact(Timeout = 30000)]
    public async Task Answers_carry_AWS_56_digit_numbers_that_encode_shard_counter_and_time()
    {
        var (stream, shard) = await StreamAsync();
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var numbers = new List<string>();
        for (int i = 0; i < 3; i++)
            numbers.Add(await PutAsync(stream));
        var batch = await server.OkAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{"PartitionKey":"a","ExplicitHashKey":"0","Data":""},{"PartitionKey":"b","ExplicitHashKey":"0","Data":""}]}""");
        numbers.AddRange(batch.GetProperty("Records").EnumerateArray().Select(r => r.GetProperty("SequenceNumber").GetString()!));
        string start = shard.GetProperty("SequenceNumberRange").GetProperty("StartingSequenceNumber").GetString()!;

        Assert.All(numbers.Append(start), n => Assert.Equal(56, n.Length));
        var decoded = numbers.Select(n => Assert.IsType<DecodedSequenceNumber>(Decode(n))).ToList();
        Assert.All(decoded, d => Assert.Equal(SequenceLayout.AwsVersion2, d.Layout));
        Assert.Equal([1UL, 2UL, 3UL, 4UL, 5UL], decoded.Select(d => d.Counter));
        Assert.All(decoded, d => Assert.InRange(d.RecordSeconds!.Value, before, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        Assert.Equal(0UL, Decode(start)!.Value.Counter);
        for (int i = 1; i < numbers.Count; i++)
            Assert.True(BigInteger.Parse(numbers[i]) > BigInteger.Parse(numbers[i - 1]));

        // GetRecords gives every record the number its put answered with.
        string iterator = (await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}""")).GetProperty("ShardIterator").GetString()!;
        var records = (await server.OkAsync("GetRecords", $$"""{"ShardIterator":"{{iterator}}"}""")).GetProperty("Records");
        Assert.Equal(numbers, records.EnumerateArray().Select(r => r.GetProperty("SequenceNumber").GetString()!));
    }

    private static DecodedSequenceNumber? Decode(string text) =>
        DecodedSequenceNumber.TryDecode(text, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1, out var d) ? d : null;

    [Fact(Timeout = 30000)]
    public async Task Get_shard_iterator_checks_what_a_number_encodes_in_AWS_order_with_AWS_messages()
    {
        var (stream, _) = await StreamAsync();
        string seq = await PutAsync(stream);
        var own = Decode(seq)!.Value;
        string invalid = $"used in GetShardIterator on shard shardId-000000000000 in stream {stream} under account {Account} is invalid";

        // Not a number AWS can decode: unknown version, a field out of range, a version 0 time too large, the future.
        string version3 = (BigInteger.Parse(seq) + 1).ToString();
        string future = new SequenceNumber(own.ShardSeconds, 0, 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600).ToString();
        foreach (string bad in new[] { version3, "1" + new string('0', 40), "26227199374822427428162556223570313216", "49039857307719593840066370180380661734935976090628259842", future })
            Assert.Equal($"StartingSequenceNumber {bad} {invalid}.", await IteratorErrorAsync(stream, bad));

        // The shard index is checked before the origin: AWS's small-number example encodes shard 5.
        Assert.Equal("Invalid StartingSequenceNumber. It encodes shardId-000000000005, while it was used in a call to a shard with shardId-000000000000",
            await IteratorErrorAsync(stream, "5"));
        Assert.Equal("Invalid StartingSequenceNumber. It encodes shardId-000000000000, while it was used in a call to a shard with shardId-000000000001",
            await IteratorErrorAsync(stream, seq, "shardId-000000000001"));

        // Then the origin: an older layout, or another shard time, did not come from this stream; version 0 is quoted in full.
        Assert.Equal($"StartingSequenceNumber 21267647932558653966460912964485513216 {invalid} because it did not come from this stream.", await IteratorErrorAsync(stream, "0"));
        string otherStream = new SequenceNumber(own.ShardSeconds - 1, 0, 1, own.ShardSeconds - 1).ToString();
        Assert.Equal($"StartingSequenceNumber {otherStream} {invalid} because it did not come from this stream.", await IteratorErrorAsync(stream, otherStream));

        // Runnel's former 43-digit numbers are AWS's "unknown version" on a shard that never issued them.
        string legacy = "4" + own.ShardSeconds.ToString("D10") + "000000000000" + "00000000000000000001";
        Assert.Equal($"StartingSequenceNumber {legacy} {invalid}.", await IteratorErrorAsync(stream, legacy));

        // A number whose record time differs still names the same record: the counter decides.
        string sameCounter = new SequenceNumber(own.ShardSeconds, 0, own.Counter, own.ShardSeconds).ToString();
        string it = (await server.OkAsync("GetShardIterator", $$"""{"StreamName":"{{stream}}","ShardId":"shardId-000000000000","ShardIteratorType":"AT_SEQUENCE_NUMBER","StartingSequenceNumber":"{{sameCounter}}"}""")).GetProperty("ShardIterator").GetString()!;
        Assert.Equal(seq, (await server.OkAsync("GetRecords", $$"""{"ShardIterator":"{{it}}"}""")).GetProperty("Records")[0].GetProperty("SequenceNumber").GetString());
    }

    [Fact(Timeout = 30000)]
    public async Task Sequence_number_for_ordering_is_decoded_as_AWS_does()
    {
        var (stream, _) = await StreamAsync(1);
        string first = await PutAsync(stream);
        foreach (string accepted in new[] { first, "0", "49590338271490256608559692538361571095921575989136588898" })
        {
            var put = await server.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"","SequenceNumberForOrdering":"{{accepted}}"}""");
            Assert.True(BigInteger.Parse(put.GetProperty("SequenceNumber").GetString()!) > BigInteger.Parse(first));
        }
        string future = new SequenceNumber(1, 0, 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600).ToString();
        foreach (string bad in new[] { (BigInteger.Parse(first) + 1).ToString(), future, "1" + new string('0', 40) })
        {
            var (status, body) = await server.CallAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"","SequenceNumberForOrdering":"{{bad}}"}""");
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
            Assert.Equal($"ExclusiveMinimumSequenceNumber {bad} used in PutRecord on stream {stream} under account {Account} is invalid.", body.GetProperty("message").GetString());
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Children_of_a_reshard_in_the_same_second_sort_above_their_parents()
    {
        // Shard 15 splits into 16 and 17: their index digit (0, 1) is below the parent's (f), so the shard time must rise.
        string stream = await server.CreateStreamAsync("seqchild", 16);
        string parentLast = await PutAsync(stream, "340282366920938463463374607431768211455");
        await server.OkAsync("SplitShard", $$"""{"StreamName":"{{stream}}","ShardToSplit":"shardId-000000000015","NewStartingHashKey":"340282366920938463463374607431768211000"}""");
        for (int i = 0; i < 100 && (await server.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary").GetProperty("StreamStatus").GetString() != "ACTIVE"; i++)
            await Task.Delay(50);
        string childFirst = await PutAsync(stream, "340282366920938463463374607431768211455");
        Assert.True(BigInteger.Parse(childFirst) > BigInteger.Parse(parentLast), $"{childFirst} > {parentLast}");
        var shards = (await server.OkAsync("ListShards", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("Shards").EnumerateArray().ToList();
        var parentEnd = BigInteger.Parse(shards[15].GetProperty("SequenceNumberRange").GetProperty("EndingSequenceNumber").GetString()!);
        Assert.True(parentEnd >= BigInteger.Parse(parentLast));
        foreach (var child in shards.Skip(16))
            Assert.True(BigInteger.Parse(child.GetProperty("SequenceNumberRange").GetProperty("StartingSequenceNumber").GetString()!) > parentEnd);
    }
}
