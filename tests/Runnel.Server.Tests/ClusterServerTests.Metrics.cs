using System.Text.Json;
using Runnel.Storage.Metrics;

namespace Runnel.Server.Tests;

public sealed partial class ClusterServerTests
{
    /// <summary>
    /// CloudWatch's API and alarms on a cluster: a query through one node counts the records put through both, and
    /// their percentiles, in the minute still filling (gathered from every node) and once both rolled it (their minutes
    /// and distributions merged in the shared history); an alarm put through one node is described, set and its history read through the other.
    /// </summary>
    [Fact(Timeout = 120000)]
    public async Task Metrics_and_alarms_answer_alike_through_every_node()
    {
        var (a, aClient, _) = await NodeAsync();
        var (b, bClient, _) = await NodeAsync();
        try
        {
            string stream = ServerFixture.UniqueName("cw-cluster");
            await aClient.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
            for (int i = 0; i < 20 && (await bClient.CallAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).Status != System.Net.HttpStatusCode.OK; i++)
                await Task.Delay(100);
            await aClient.OkAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{"PartitionKey":"a","Data":"{{B64("1")}}"},{"PartitionKey":"b","Data":"{{B64("2")}}"}]}""");
            await bClient.OkAsync("PutRecords", $$"""{"StreamName":"{{stream}}","Records":[{"PartitionKey":"a","Data":"{{B64("3")}}"},{"PartitionKey":"b","Data":"{{B64("4")}}"},{"PartitionKey":"c","Data":"{{B64("5")}}"}]}""");
            long minute = a.Roller!.CurrentMinute;
            string query = $$"""{"Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Dimensions":[{"Name":"StreamName","Value":"{{stream}}"}],"StartTime":{{minute - 600}},"EndTime":{{minute + 600}},"Period":1200,"Statistics":["Sum","SampleCount"],"ExtendedStatistics":["p99","p50"]}""";
            var live = await aClient.OkAsync("GraniteServiceVersion20100801.GetMetricStatistics", query);
            var point = Assert.Single(live.GetProperty("Datapoints").EnumerateArray());
            Assert.Equal((5.0, 2.0), (point.GetProperty("Sum").GetDouble(), point.GetProperty("SampleCount").GetDouble()));
            var percentiles = point.GetProperty("ExtendedStatistics"); // of a's call of 2 records and b's of 3, gathered live
            Assert.Equal((3.0, 2.0), (percentiles.GetProperty("p99").GetDouble(), percentiles.GetProperty("p50").GetDouble()));

            a.Roller.Roll(minute);
            b.Roller!.Roll(minute);
            var key = new MetricSeries("AWS/Kinesis", "IncomingRecords", [new("StreamName", stream)], "Count").Key;
            IReadOnlyList<(long Minute, string Unit, StatisticSet Statistics)> merged = [];
            for (int i = 0; i < 100 && (merged.Count == 0 || merged[0].Statistics.Sum < 5); i++, await Task.Delay(50))
                merged = a.MetricHistory!.Read(key, minute, minute + 60);
            Assert.Equal(new StatisticSet(2, 5, 2, 3) { Distribution = new Runnel.Core.Metrics.ValueDistribution(1, [2, 3], [1, 1]) }, Assert.Single(merged).Statistics); // the two nodes' samples, by bucket
            var rolled = Assert.Single((await bClient.OkAsync("GraniteServiceVersion20100801.GetMetricStatistics", query)).GetProperty("Datapoints").EnumerateArray());
            Assert.Equal(5.0, rolled.GetProperty("Sum").GetDouble());
            Assert.Equal(3.0, rolled.GetProperty("ExtendedStatistics").GetProperty("p99").GetDouble());

            string alarm = ServerFixture.UniqueName("cluster-alarm");
            await aClient.OkAsync("GraniteServiceVersion20100801.PutMetricAlarm", $$"""
                {"AlarmName":"{{alarm}}","Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Dimensions":[{"Name":"StreamName","Value":"{{stream}}"}],
                 "Statistic":"Sum","Period":60,"EvaluationPeriods":1,"Threshold":100,"ComparisonOperator":"GreaterThanThreshold","TreatMissingData":"ignore"}
                """);
            JsonElement[] found = [];
            for (int i = 0; i < 100 && found.Length == 0; i++, await Task.Delay(50))
                found = [.. (await bClient.OkAsync("GraniteServiceVersion20100801.DescribeAlarms", $$"""{"AlarmNames":["{{alarm}}"]}""")).GetProperty("MetricAlarms").EnumerateArray()];
            Assert.Equal("INSUFFICIENT_DATA", Assert.Single(found).GetProperty("StateValue").GetString());
            await bClient.OkAsync("GraniteServiceVersion20100801.SetAlarmState", $$"""{"AlarmName":"{{alarm}}","StateValue":"ALARM","StateReason":"through b"}""");
            var history = await aClient.OkAsync("GraniteServiceVersion20100801.DescribeAlarmHistory", $$"""{"AlarmName":"{{alarm}}","HistoryItemType":"StateUpdate"}""");
            Assert.Equal("Alarm updated from INSUFFICIENT_DATA to ALARM", Assert.Single(history.GetProperty("AlarmHistoryItems").EnumerateArray()).GetProperty("HistorySummary").GetString());
            await aClient.OkAsync("GraniteServiceVersion20100801.DeleteAlarms", $$"""{"AlarmNames":["{{alarm}}"]}""");
        }
        finally
        {
            aClient.Dispose();
            bClient.Dispose();
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }
}
