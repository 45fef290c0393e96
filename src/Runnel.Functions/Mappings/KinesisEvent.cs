using System.Text;
using Runnel.Core.Model;
using Runnel.Storage.Records;

namespace Runnel.Functions.Mappings;

/// <summary>
/// The event Lambda gives a function for a batch of a Kinesis shard's records, exactly as Lambda writes it:
/// <c>{"Records": [{"kinesis": {"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data", "approximateArrivalTimestamp"},
/// "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "SHARD:SEQUENCE", "eventName": "aws:kinesis:record",
/// "invokeIdentityArn", "awsRegion", "eventSourceARN"}]}</c>. KPL aggregates are given as they are (Lambda does not
/// deaggregate). Thread-safe: stateless.
/// </summary>
public static class KinesisEvent
{
    public static byte[] Write(ReadResult read, int start, int end, ShardInfo shard, string streamArn, string role, string region) =>
        Api.FunctionOperations.Write(json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("Records");
            var records = read.Records;
            for (int i = start; i < end; i++)
            {
                var record = records[i];
                string sequence = shard.SequenceOf(record.Offset, record.ArrivalMillis).ToString();
                json.WriteStartObject();
                json.WriteStartObject("kinesis");
                json.WriteString("kinesisSchemaVersion", "1.0");
                json.WriteString("partitionKey", Encoding.UTF8.GetString(read.PartitionKey(record)));
                json.WriteString("sequenceNumber", sequence);
                json.WriteBase64String("data", read.Data(record));
                json.WriteNumber("approximateArrivalTimestamp", record.ArrivalMillis / 1000m);
                json.WriteEndObject();
                json.WriteString("eventSource", "aws:kinesis");
                json.WriteString("eventVersion", "1.0");
                json.WriteString("eventID", $"{shard.ShardId}:{sequence}");
                json.WriteString("eventName", "aws:kinesis:record");
                json.WriteString("invokeIdentityArn", role);
                json.WriteString("awsRegion", region);
                json.WriteString("eventSourceARN", streamArn);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
}
