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
}
