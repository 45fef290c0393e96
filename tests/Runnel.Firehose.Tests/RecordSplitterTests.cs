using System.Text;
using Runnel.Firehose.Delivery;

namespace Runnel.Firehose.Tests;

/// <summary>KPL aggregates split into their user records (against bytes aws-kinesis-agg made), and RecordDeAggregation's sub-records.</summary>
public sealed class RecordSplitterTests
{
    private static readonly byte[] Aggregate = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "kpl-aggregate.bin"));

    private static List<string> Texts(List<ReadOnlyMemory<byte>> pieces) => [.. pieces.Select(p => Encoding.UTF8.GetString(p.Span))];

    [Fact]
    public void A_KPL_aggregate_made_by_aws_kinesis_agg_gives_its_user_records_in_order()
    {
        var users = new RecordSplitter(kpl: true, json: false, null).Split(Aggregate);
        Assert.Equal([.. Enumerable.Range(0, 5).Select(i => $"{{\"user\":{i},\"msg\":\"hello {i}\"}}\n"), "raw bytes\n"], Texts(users));
    }

    [Fact]
    public void A_record_that_is_not_an_aggregate_or_whose_checksum_fails_is_one_user_record()
    {
        var splitter = new RecordSplitter(kpl: true, json: false, null);
        Assert.Equal(["plain"], Texts(splitter.Split("plain"u8)));
        byte[] damaged = (byte[])Aggregate.Clone();
        damaged[30] ^= 1;
        Assert.Equal(damaged, Assert.Single(splitter.Split(damaged)).ToArray());
        Assert.Single(new RecordSplitter(kpl: false, json: false, null).Split(Aggregate)); // not from a stream: not split
    }

    [Fact]
    public void JSON_sub_records_are_split_back_to_back_or_by_lines_and_the_unparsable_kept_whole()
    {
        var splitter = new RecordSplitter(kpl: false, json: true, null);
        Assert.Equal(["{\"a\":1}", "{\"a\":2}", "{\"b\":[1,2]}"], Texts(splitter.Split("{\"a\":1}{\"a\":2}\n{\"b\":[1,2]}\n"u8)));
        Assert.Equal(["{\"a\":1} oops"], Texts(splitter.Split("{\"a\":1} oops"u8)));
    }

    [Fact]
    public void Delimited_sub_records_are_the_pieces_between_the_delimiters()
    {
        var splitter = new RecordSplitter(kpl: false, json: false, "####"u8.ToArray());
        Assert.Equal(["a", "bb", "c"], Texts(splitter.Split("a####bb####c"u8)));
    }

    [Fact]
    public void KPL_user_records_are_then_split_into_JSON_sub_records()
    {
        var users = new RecordSplitter(kpl: true, json: true, null).Split(Aggregate);
        Assert.Equal(6, users.Count); // five JSON objects, and "raw bytes\n" kept whole (it is no JSON)
        Assert.Equal("{\"user\":4,\"msg\":\"hello 4\"}", Encoding.UTF8.GetString(users[4].Span));
    }
}
