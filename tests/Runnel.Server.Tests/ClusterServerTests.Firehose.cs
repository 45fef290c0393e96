namespace Runnel.Server.Tests;

public sealed partial class ClusterServerTests
{
    [Fact(Timeout = 120000)]
    public async Task A_DirectPut_delivery_stream_takes_records_through_every_node_and_the_elected_node_delivers_them()
    {
        string objects = Path.Combine(Path.GetTempPath(), "runnel-cluster-objects-" + Guid.NewGuid().ToString("N"));
        string name = ServerFixture.UniqueName("fh");
        var (a, aClient, _) = await NodeAsync(o => o with { S3Directory = objects });
        var (b, bClient, _) = await NodeAsync(o => o with { S3Directory = objects });
        try
        {
            await aClient.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\",\"ExtendedS3DestinationConfiguration\":{" +
                "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::cluster\",\"Prefix\":\"" + name + "/\",\"BufferingHints\":{\"SizeInMBs\":1,\"IntervalInSeconds\":0}}}");
            var records = Enumerable.Range(0, 40).Select(i => $"{name}-{i}").ToList();
            await aClient.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch(name, records.Take(20)));
            await bClient.OkAsync("Firehose_20150804.PutRecordBatch", FirehoseObjects.Batch(name, records.Skip(20)));
            var delivered = await FirehoseObjects.WaitForAsync(Path.Combine(objects, "cluster"), records, seconds: 30);
            Assert.Equal(records.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));
            Assert.True(a.Delivery.Delivering.Contains(name) ^ b.Delivery.Delivering.Contains(name), "exactly one node delivers");

            // Deleted through the node that does not deliver: the delivering node hears of it and lets the log go. It
            // went on asking JetStream for the deleted log's tip every second, for as long as it ran.
            var deliverer = a.Delivery.Delivering.Contains(name) ? a : b;
            var other = deliverer == a ? bClient : aClient;
            long log = deliverer.Firehose.Catalog.All().Single(s => s.Name == name).LogId!.Value;
            await other.OkAsync("Firehose_20150804.DeleteDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\"}");
            await EventuallyAsync(() => Task.FromResult(!deliverer.Delivery.Delivering.Contains(name)), "the delivering node stops delivering");
            await Task.Delay(500); // a request sent just before that
            Assert.Empty(await JetStreamRequestsAsync(Runnel.Storage.JetStream.JetStreamShardStore.StreamNameOf(log, 0), TimeSpan.FromSeconds(3)));
        }
        finally
        {
            await aClient.CallAsync("Firehose_20150804.DeleteDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\"}");
            aClient.Dispose();
            bClient.Dispose();
            await a.DisposeAsync();
            await b.DisposeAsync();
            try { Directory.Delete(objects, recursive: true); } catch (IOException) { }
        }
    }

    [Fact(Timeout = 120000)]
    public async Task A_channel_made_through_one_node_is_seen_by_the_other_and_the_elected_node_delivers_its_stream()
    {
        string objects = Path.Combine(Path.GetTempPath(), "runnel-cluster-channel-" + Guid.NewGuid().ToString("N"));
        string stream = ServerFixture.UniqueName("chs"), channel = ServerFixture.UniqueName("ch");
        var (a, aClient, _) = await NodeAsync(o => o with { S3Directory = objects, ChannelFreshness = TimeSpan.FromSeconds(1) });
        var (b, bClient, _) = await NodeAsync(o => o with { S3Directory = objects, ChannelFreshness = TimeSpan.FromSeconds(1) });
        string? arn = null;
        try
        {
            await aClient.OkAsync("CreateStream", "{\"StreamName\":\"" + stream + "\",\"StreamModeDetails\":{\"StreamMode\":\"ON_DEMAND\"}}");
            var created = await bClient.OkAsync("CreateChannel", "{\"ChannelName\":\"" + channel + "\",\"ServiceExecutionRoleARN\":\"arn:aws:iam::000000000000:role/r\"," +
                "\"StreamConfigurationList\":[{\"StreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/" + stream + "\",\"RecordConfiguration\":{\"RecordFormatType\":\"STRING\"}}]," +
                "\"S3DestinationConfiguration\":{\"StorageConfiguration\":{\"BucketARN\":\"arn:aws:s3:::cluster\",\"ExpectedBucketOwner\":\"000000000000\",\"CompressionType\":\"NONE\"," +
                "\"OutputKeyTemplate\":\"" + channel + "/!{yyyy}!{MM}!{dd}\"}}}");
            arn = created.GetProperty("ChannelDescription").GetProperty("ChannelARN").GetString()!;
            var seen = await aClient.OkAsync("DescribeChannel", "{\"ChannelARN\":\"" + arn + "\"}");
            Assert.Equal(channel, seen.GetProperty("ChannelDescription").GetProperty("ChannelName").GetString());
            Assert.Equal("ResourceInUseException", (await aClient.CallAsync("DeleteStream", "{\"StreamName\":\"" + stream + "\"}")).Body.GetProperty("__type").GetString());

            var records = Enumerable.Range(0, 40).Select(i => $"{channel}-{i}").ToList();
            await Task.Delay(50); // the channel delivers what arrives once it is ACTIVE
            foreach (var (client, half) in new[] { (aClient, records.Take(20)), (bClient, records.Skip(20)) })
                await client.OkAsync("PutRecords", "{\"StreamName\":\"" + stream + "\",\"Records\":[" +
                    string.Join(",", half.Select(r => "{\"PartitionKey\":\"" + r + "\",\"Data\":\"" + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(r)) + "\"}")) + "]}");
            var delivered = await FirehoseObjects.WaitForAsync(Path.Combine(objects, "cluster", channel), records, seconds: 30);
            Assert.Equal(records.Order(StringComparer.Ordinal), delivered.Order(StringComparer.Ordinal));
            string key = "channel/" + created.GetProperty("ChannelDescription").GetProperty("ChannelId").GetString();
            Assert.True(a.Delivery.Delivering.Contains(key) ^ b.Delivery.Delivering.Contains(key), "exactly one node delivers");
        }
        finally
        {
            if (arn is not null)
                await aClient.CallAsync("DeleteChannel", "{\"ChannelARN\":\"" + arn + "\"}");
            await aClient.CallAsync("DeleteStream", "{\"StreamName\":\"" + stream + "\"}");
            aClient.Dispose();
            bClient.Dispose();
            await a.DisposeAsync();
            await b.DisposeAsync();
            try { Directory.Delete(objects, recursive: true); } catch (IOException) { }
        }
    }

    [Fact(Timeout = 120000)]
    public async Task A_delivery_stream_deleted_as_the_elected_node_starts_delivering_it_is_deleted_at_once_and_leaves_no_log()
    {
        var (a, aClient, _) = await NodeAsync();
        var (b, bClient, _) = await NodeAsync();
        await using var connection = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = nats.Cluster.Urls });
        var js = new NATS.Client.JetStream.NatsJSContext(connection);
        try
        {
            var elected = await LeaderOfAsync(a, b);
            var other = elected == a ? bClient : aClient;
            // Deleted through the other node as soon as it is made: the elected node is making the stream's log in
            // JetStream to deliver it just then. The two nodes' requests once kept each other unanswered (the delete
            // waited 10 s, or failed with a 500 after 15 s while the stream was gone already).
            for (int i = 0; i < 3; i++)
            {
                string name = ServerFixture.UniqueName("fh-gone");
                await other.OkAsync("Firehose_20150804.CreateDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\",\"ExtendedS3DestinationConfiguration\":{" +
                    "\"RoleARN\":\"arn:aws:iam::000000000000:role/r\",\"BucketARN\":\"arn:aws:s3:::cluster\"}}");
                long log = (elected == a ? b : a).Firehose.Catalog.All().Single(s => s.Name == name).LogId!.Value;
                await other.OkAsync("Firehose_20150804.DeleteDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\"}");
                Assert.Equal("ResourceNotFoundException", (await other.CallAsync("Firehose_20150804.DescribeDeliveryStream", "{\"DeliveryStreamName\":\"" + name + "\"}"))
                    .Body.GetProperty("__type").GetString());
                // No log is left behind: deleted, or (made again by a request sent before the elected node heard of
                // the deletion) swept as an orphan.
                await EventuallyAsync(() => Task.FromResult(!elected.Delivery.Delivering.Contains(name)), "the elected node stops delivering");
                string logName = Runnel.Storage.JetStream.JetStreamShardStore.StreamNameOf(log, 0);
                await EventuallyAsync(async () =>
                {
                    elected.SweepOrphans();
                    try
                    {
                        await js.GetStreamAsync(logName);
                        return false;
                    }
                    catch (NATS.Client.JetStream.NatsJSApiException e) when (e.Error.Code == 404)
                    {
                        return true;
                    }
                }, "the deleted delivery stream's log is gone");
            }
        }
        finally
        {
            aClient.Dispose();
            bClient.Dispose();
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    /// <summary>The JetStream API requests about the JetStream stream <paramref name="stream"/> that any node sends within <paramref name="listen"/>.</summary>
    private async Task<List<string>> JetStreamRequestsAsync(string stream, TimeSpan listen)
    {
        await using var connection = new NATS.Client.Core.NatsConnection(new NATS.Client.Core.NatsOpts { Url = nats.Cluster.Urls });
        var seen = new List<string>();
        using var stop = new CancellationTokenSource(listen);
        try
        {
            await foreach (var request in connection.SubscribeAsync<byte[]>("$JS.API.>", cancellationToken: stop.Token))
                if (request.Subject.EndsWith("." + stream, StringComparison.Ordinal))
                    seen.Add(request.Subject);
        }
        catch (OperationCanceledException)
        {
        }
        return seen;
    }
}
