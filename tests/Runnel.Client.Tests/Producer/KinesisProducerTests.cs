using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Runnel.Client.Aggregation;
using Runnel.Client.Producer;

namespace Runnel.Client.Tests.Producer;

/// <summary>The producer against a real Runnel server in-process (without throughput limits), each test on streams of its own.</summary>
public sealed class KinesisProducerTests(RunnelFixture fixture) : IClassFixture<RunnelFixture>
{
    private readonly RunnelHost _host = fixture.Host;

    [Fact(Timeout = 60_000)]
    public async Task PutAsync_returns_the_shard_and_sequence_number_GetRecords_finds_the_record_at()
    {
        using var client = _host.Kinesis();
        string stream = await ProducerStreams.CreateAsync(client, "producer-put", 2);
        await using var producer = new KinesisProducer(client, new ProducerOptions { StreamName = stream });

        var puts = Enumerable.Range(0, 40).Select(i => (Key: $"key-{i % 7}", Data: Encoding.UTF8.GetBytes($"record-{i}"))).ToList();
        var results = await Task.WhenAll(puts.Select(p => producer.PutAsync(p.Key, p.Data)));

        var read = await ProducerStreams.ReadAllAsync(client, stream);
        Assert.Equal(puts.Count, read.Count);
        for (int i = 0; i < puts.Count; i++)
        {
            var result = results[i];
            var found = Assert.Single(read, r => r.ShardId == result.ShardId && r.Record.SequenceNumber == result.SequenceNumber && r.Record.SubSequenceNumber == result.SubSequenceNumber);
            Assert.Equal(puts[i].Key, found.Record.PartitionKey);
            Assert.Equal(puts[i].Data, found.Record.Data.ToArray());
            Assert.True(result.Attempts >= 1);
        }
        // Forty small records put at once make aggregates: some share a sequence number.
        Assert.Contains(results, r => r.SubSequenceNumber > 0);
    }

    [Fact(Timeout = 120_000)]
    public async Task Ten_thousand_records_enqueued_then_flushed_are_all_stored_once_in_order_per_key()
    {
        using var client = _host.Kinesis();
        string stream = await ProducerStreams.CreateAsync(client, "producer-10k", 4);
        await using var producer = new KinesisProducer(client, new ProducerOptions { StreamName = stream, AggregationMaxBytes = 64 * 1024 });
        var failures = new ConcurrentBag<RecordFailedEventArgs>();
        producer.RecordFailed += (_, e) => failures.Add(e);

        const int count = 10_000;
        for (int i = 0; i < count; i++)
            await producer.EnqueueAsync($"key-{i % 97}", Encoding.UTF8.GetBytes($"{i}"));
        await producer.FlushAsync();
        Assert.Empty(failures);
        Assert.Equal(0, producer.BufferedRecords);

        var read = await ProducerStreams.ReadAllAsync(client, stream);
        var numbers = read.Select(r => int.Parse(Encoding.UTF8.GetString(r.Record.Data.Span))).ToList();
        Assert.Equal(Enumerable.Range(0, count), numbers.Order());
        foreach (var key in read.GroupBy(r => (r.ShardId, r.Record.PartitionKey)))
        {
            var inShard = key.Select(r => int.Parse(Encoding.UTF8.GetString(r.Record.Data.Span))).ToList();
            Assert.Equal(inShard.Order(), inShard);
        }
        Assert.True(read.Count(r => r.Record.IsAggregated) > count / 2, "most records travelled in aggregates");
    }

    [Fact(Timeout = 60_000)]
    public async Task Aggregates_never_straddle_shards()
    {
        using var client = _host.Kinesis();
        string stream = await ProducerStreams.CreateAsync(client, "producer-straddle", 8);
        await using var producer = new KinesisProducer(client, new ProducerOptions { StreamName = stream });

        var random = new Random(19);
        for (int i = 0; i < 3000; i++)
            await producer.EnqueueAsync($"k{random.Next()}", Encoding.UTF8.GetBytes($"{i}"));
        await producer.FlushAsync();

        // Read without the range filter: every user record of every aggregate is there, and each is its shard's.
        var read = await ProducerStreams.ReadAllAsync(client, stream, filterByRange: false);
        Assert.Equal(3000, read.Count);
        Assert.All(read, r => Assert.True(r.ShardRange.Contains(HashKeys.OfPartitionKey(r.Record.PartitionKey)), $"{r.Record.PartitionKey} in {r.ShardId} {r.ShardRange}"));
        Assert.True(read.Count(r => r.Record.IsAggregated) > 1500);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_reshard_in_the_middle_of_a_run_loses_nothing()
    {
        using var client = _host.Kinesis();
        string stream = await ProducerStreams.CreateAsync(client, "producer-reshard", 2);
        await using var producer = new KinesisProducer(client, new ProducerOptions { StreamName = stream, RecordMaxBufferedTime = TimeSpan.FromMilliseconds(20) });
        var failures = new ConcurrentBag<RecordFailedEventArgs>();
        producer.RecordFailed += (_, e) => failures.Add(e);

        const int count = 6000;
        for (int i = 0; i < count; i++)
        {
            await producer.EnqueueAsync($"key-{i % 61}", Encoding.UTF8.GetBytes($"{i}"));
            if (i == count / 3)
                await _host.UpdateShardCountAsync(stream, 4);
            if (i % 200 == 0)
                await Task.Delay(5);
        }
        await producer.FlushAsync();
        Assert.Empty(failures);

        // As a KCL consumer reads: every shard, parents and children, each without the records its range does not hold.
        var read = await ProducerStreams.ReadAllAsync(client, stream);
        var numbers = read.Select(r => int.Parse(Encoding.UTF8.GetString(r.Record.Data.Span))).Order().ToList();
        Assert.Equal(Enumerable.Range(0, count), numbers);
        Assert.True(read.Select(r => r.ShardId).Distinct().Count() > 2, "records went to the children too");
    }

    [Fact(Timeout = 60_000)]
    public async Task A_full_buffer_makes_EnqueueAsync_wait_and_TryEnqueue_refuse_and_sends_without_waiting_out_the_linger()
    {
        using var setup = _host.Kinesis();
        string stream = await ProducerStreams.CreateAsync(setup, "producer-backpressure", 1);
        // PutRecords calls are held until released, so the buffer stays full while the test looks at it.
        using var held = new HeldPuts();
        using var client = new KinesisClient(new KinesisClientOptions
        {
            Endpoint = _host.Url,
            Region = "us-east-1",
            Credentials = new Runnel.Client.Credentials.StaticCredentialsProvider("AKIDEXAMPLE", "secret"),
            HttpHandler = held,
        });
        // Records linger a minute: only a full buffer makes the aggregate go sooner.
        await using var producer = new KinesisProducer(client, new ProducerOptions { StreamName = stream, MaxBufferedRecords = 2, RecordMaxBufferedTime = TimeSpan.FromMinutes(1) });

        try
        {
            Assert.True(producer.TryEnqueue("a", new byte[] { 1 }));
            await producer.EnqueueAsync("a", new byte[] { 2 });
            // The buffer is full and nothing else can join the aggregate: it is sent now, not in a minute.
            Assert.True(await held.Seen.Task.WaitAsync(TimeSpan.FromSeconds(20)) > 0);
            Assert.False(producer.TryEnqueue("a", new byte[] { 3 }));
            var waiting = producer.EnqueueAsync("a", new byte[] { 3 }).AsTask();
            await Task.Delay(100);
            Assert.False(waiting.IsCompleted);
            Assert.Equal(2, producer.BufferedRecords);

            held.Release();
            await waiting;
            await producer.FlushAsync();
        }
        finally
        {
            held.Release(); // so that a failed check does not leave the producer's disposal waiting on a held call
        }
        var read = await ProducerStreams.ReadAllAsync(setup, stream);
        Assert.Equal([1, 2, 3], read.Select(r => r.Record.Data.Span[0]));
    }

    /// <summary>Holds every PutRecords call until <see cref="Release"/>; others pass.</summary>
    private sealed class HeldPuts() : DelegatingHandler(new SocketsHttpHandler())
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _seen;

        /// <summary>Completes with the number of PutRecords calls held when the first arrives.</summary>
        public TaskCompletionSource<int> Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _released.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Headers.TryGetValues("X-Amz-Target", out var target) && target.Single().EndsWith(".PutRecords", StringComparison.Ordinal))
            {
                Seen.TrySetResult(Interlocked.Increment(ref _seen));
                await _released.Task.WaitAsync(cancellationToken);
            }
            return await base.SendAsync(request, cancellationToken);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_stream_fails_the_records_with_ResourceNotFound()
    {
        using var client = _host.Kinesis();
        await using var producer = new KinesisProducer(client, new ProducerOptions { StreamName = RunnelHost.UniqueName("producer-missing") });
        var failed = new TaskCompletionSource<RecordFailedEventArgs>();
        producer.RecordFailed += (_, e) => failed.TrySetResult(e);

        var error = await Assert.ThrowsAsync<ProducerRecordException>(() => producer.PutAsync("k", new byte[] { 1 }));
        Assert.Equal("ResourceNotFoundException", error.ErrorCode);
        Assert.True(producer.TryEnqueue("k", new byte[] { 2 }));
        Assert.Equal("ResourceNotFoundException", (await failed.Task).Error.ErrorCode);
        Assert.Equal(2, producer.FailedRecords);
    }

    [Fact(Timeout = 60_000)]
    public async Task Metrics_count_records_latency_and_buffered_bytes()
    {
        using var client = _host.Kinesis();
        string stream = await ProducerStreams.CreateAsync(client, "producer-metrics", 2);
        var sums = new ConcurrentDictionary<string, double>();
        var counts = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == KinesisProducer.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
                if (tag.Key == "stream" && (string?)tag.Value == stream)
                {
                    if (instrument.Name == "runnel.producer.buffered_bytes")
                        sums[instrument.Name] = value; // a gauge: its last value
                    else
                        sums.AddOrUpdate(instrument.Name, value, (_, s) => s + value);
                    counts.AddOrUpdate(instrument.Name, 1, (_, c) => c + 1);
                }
        }
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        await using var producer = new KinesisProducer(client, new ProducerOptions { StreamName = stream, RecordMaxBufferedTime = TimeSpan.FromMinutes(1) });
        for (int i = 0; i < 100; i++)
            Assert.True(producer.TryEnqueue($"key-{i}", new byte[10]));
        listener.RecordObservableInstruments();
        Assert.True(sums["runnel.producer.buffered_bytes"] >= 100 * 10);

        await producer.FlushAsync();
        listener.RecordObservableInstruments();
        Assert.Equal(0, sums["runnel.producer.buffered_bytes"]);
        Assert.Equal(100, sums["runnel.producer.user_records_put"]);
        Assert.Equal(100, counts["runnel.producer.put_latency"]);
        Assert.InRange(sums["runnel.producer.records_put"], 1, 100);
        Assert.False(sums.ContainsKey("runnel.producer.failures"));
    }
}
