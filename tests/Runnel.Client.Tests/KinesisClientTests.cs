using System.Net;
using Runnel.Client.Models;

namespace Runnel.Client.Tests;

/// <summary>
/// Every Kinesis operation of the client against a real Runnel server, in JSON 1.1 and in CBOR, on HTTP/2 (h2c) and on
/// HTTP/1.1: streams made and described, records put and read back byte for byte through iterators of each type, shards
/// listed page by page, errors with AWS's code and status.
/// </summary>
public sealed class KinesisClientTests(RunnelFixture fixture) : IClassFixture<RunnelFixture>
{
    public static TheoryData<KinesisProtocol, bool> Protocols => new()
    {
        { KinesisProtocol.Json11, true },
        { KinesisProtocol.Cbor, true },
        { KinesisProtocol.Json11, false },
        { KinesisProtocol.Cbor, false },
    };

    private static byte[] EveryByte(int seed) => [.. Enumerable.Range(0, 256).Select(i => (byte)(i + seed))];

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Protocols))]
    public async Task Records_put_are_read_back_byte_exact_through_every_iterator_type(KinesisProtocol protocol, bool http2)
    {
        using var client = fixture.Host.Kinesis(protocol, http2);
        string stream = RunnelHost.UniqueName("records");
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1, Tags = new Dictionary<string, string> { ["team"] = "client" } });
        var summary = (await client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = stream })).StreamDescriptionSummary;
        Assert.Equal((stream, "ACTIVE", 1, "PROVISIONED"), (summary.StreamName, summary.StreamStatus, summary.OpenShardCount, summary.StreamMode));
        Assert.EndsWith(":stream/" + stream, summary.StreamARN, StringComparison.Ordinal);
        Assert.True(summary.RetentionPeriodHours >= 24);
        Assert.NotNull(summary.StreamCreationTimestamp);

        var first = await client.PutRecordAsync(new PutRecordRequest { StreamName = stream, Data = EveryByte(0), PartitionKey = "a" });
        Assert.Equal("shardId-000000000000", first.ShardId);
        // By ARN too, and a batch.
        var second = await client.PutRecordAsync(new PutRecordRequest { StreamARN = summary.StreamARN, Data = EveryByte(1), PartitionKey = "b", SequenceNumberForOrdering = first.SequenceNumber });
        var batch = await client.PutRecordsAsync(new PutRecordsRequest
        {
            StreamName = stream,
            Records = [.. Enumerable.Range(2, 5).Select(i => new PutRecordsRequestEntry { Data = EveryByte(i), PartitionKey = "k" + i })],
        });
        Assert.Equal(0, batch.FailedRecordCount);
        Assert.Equal(5, batch.Records.Count);
        Assert.All(batch.Records, r => Assert.True(r.Succeeded && r.SequenceNumber is not null && r.ShardId == first.ShardId));

        async Task<GetRecordsResponse> ReadAsync(ShardIteratorType type, string? sequence = null, DateTimeOffset? at = null)
        {
            var iterator = await client.GetShardIteratorAsync(new GetShardIteratorRequest
            {
                StreamName = stream,
                ShardId = first.ShardId,
                ShardIteratorType = type,
                StartingSequenceNumber = sequence,
                Timestamp = at,
            });
            return await client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator.ShardIterator });
        }

        var all = await ReadAsync(ShardIteratorType.TrimHorizon);
        Assert.Equal(7, all.Records.Count);
        for (int i = 0; i < 7; i++)
            Assert.Equal(EveryByte(i), all.Records[i].Data);
        Assert.Equal(["a", "b", "k2", "k3", "k4", "k5", "k6"], all.Records.Select(r => r.PartitionKey));
        Assert.Equal([first.SequenceNumber, second.SequenceNumber, .. batch.Records.Select(r => r.SequenceNumber!)], all.Records.Select(r => r.SequenceNumber));
        Assert.All(all.Records, r => Assert.InRange(r.ApproximateArrivalTimestamp!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.NotNull(all.NextShardIterator);
        Assert.Equal(0, all.MillisBehindLatest);
        Assert.Empty(all.ChildShards);

        Assert.Equal(second.SequenceNumber, (await ReadAsync(ShardIteratorType.AtSequenceNumber, second.SequenceNumber)).Records[0].SequenceNumber);
        var after = await ReadAsync(ShardIteratorType.AfterSequenceNumber, second.SequenceNumber);
        Assert.Equal(5, after.Records.Count);
        Assert.Equal(EveryByte(2), after.Records[0].Data);
        var fromFirstArrival = await ReadAsync(ShardIteratorType.AtTimestamp, at: all.Records[0].ApproximateArrivalTimestamp);
        Assert.Equal(7, fromFirstArrival.Records.Count);

        var latest = await client.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = first.ShardId, ShardIteratorType = ShardIteratorType.Latest });
        Assert.Empty((await client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = latest.ShardIterator })).Records);
        await client.PutRecordAsync(new PutRecordRequest { StreamName = stream, Data = new byte[] { 42 }, PartitionKey = "late" });
        var late = await client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = latest.ShardIterator, Limit = 10 });
        Assert.Equal(new byte[] { 42 }, Assert.Single(late.Records).Data);

        await client.DeleteStreamAsync(new DeleteStreamRequest { StreamName = stream });
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Protocols))]
    public async Task Shards_are_listed_page_by_page_and_with_a_filter(KinesisProtocol protocol, bool http2)
    {
        using var client = fixture.Host.Kinesis(protocol, http2);
        string stream = RunnelHost.UniqueName("shards");
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 3 });

        var page = await client.ListShardsAsync(new ListShardsRequest { StreamName = stream, MaxResults = 2 });
        Assert.Equal(["shardId-000000000000", "shardId-000000000001"], page.Shards.Select(s => s.ShardId));
        Assert.NotNull(page.NextToken);
        var last = await client.ListShardsAsync(new ListShardsRequest { NextToken = page.NextToken, MaxResults = 2 });
        Assert.Equal(("shardId-000000000002", null), (Assert.Single(last.Shards).ShardId, last.NextToken));

        var shards = new List<Shard>();
        await foreach (var shard in client.ListAllShardsAsync(new ListShardsRequest { StreamName = stream, MaxResults = 1 }))
            shards.Add(shard);
        Assert.Equal(3, shards.Count);
        Assert.Equal("0", shards[0].HashKeyRange.StartingHashKey);
        Assert.Equal("340282366920938463463374607431768211455", shards[2].HashKeyRange.EndingHashKey);
        Assert.All(shards, s => Assert.False(s.IsClosed));

        var afterFirst = await client.ListShardsAsync(new ListShardsRequest
        {
            StreamName = stream,
            ShardFilter = new ShardFilter { Type = ShardFilterType.AfterShardId, ShardId = "shardId-000000000000" },
        });
        Assert.Equal(2, afterFirst.Shards.Count);
        var atTime = await client.ListShardsAsync(new ListShardsRequest
        {
            StreamName = stream,
            ShardFilter = new ShardFilter { Type = ShardFilterType.AtTimestamp, Timestamp = DateTimeOffset.UtcNow },
        });
        Assert.Equal(3, atTime.Shards.Count);
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Protocols))]
    public async Task Errors_carry_AWSs_code_status_and_request_id_and_are_not_retried(KinesisProtocol protocol, bool http2)
    {
        using var client = fixture.Host.Kinesis(protocol, http2);
        var missing = await Assert.ThrowsAsync<KinesisException>(() =>
            client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = RunnelHost.UniqueName("missing") }));
        Assert.Equal(("ResourceNotFoundException", HttpStatusCode.BadRequest, false), (missing.ErrorCode, missing.StatusCode, missing.IsRetryable));
        Assert.Contains("not found", missing.Message, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(missing.RequestId));

        string stream = RunnelHost.UniqueName("errors");
        await client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 });
        var inUse = await Assert.ThrowsAsync<KinesisException>(() => client.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 }));
        Assert.Equal("ResourceInUseException", inUse.ErrorCode);
        var badIterator = await Assert.ThrowsAsync<KinesisException>(() => client.GetShardIteratorAsync(new GetShardIteratorRequest
        {
            StreamName = stream,
            ShardId = "shardId-000000000000",
            ShardIteratorType = ShardIteratorType.AtSequenceNumber,
        }));
        Assert.Equal("InvalidArgumentException", badIterator.ErrorCode);
        await client.DeleteStreamAsync(new DeleteStreamRequest { StreamName = stream });
        var gone = await Assert.ThrowsAsync<KinesisException>(() => client.PutRecordAsync(new PutRecordRequest { StreamName = stream, Data = new byte[] { 1 }, PartitionKey = "p" }));
        Assert.Equal("ResourceNotFoundException", gone.ErrorCode);
    }
}
