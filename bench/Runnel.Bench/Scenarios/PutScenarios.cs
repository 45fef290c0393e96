using Runnel.Bench.Kinesis;

namespace Runnel.Bench.Scenarios;

/// <summary>
/// The write scenarios: PutRecords in full batches, and single PutRecord requests. Request bodies are built
/// before the clock starts and reused round-robin (a few distinct ones, with distinct partition keys
/// spread over every shard), so the client spends its share of the two cores on sending, not on JSON.
/// </summary>
public static class PutScenarios
{
    private const int DistinctBatchBodies = 8;
    private const int DistinctSingleBodies = 256;

    /// <summary>Writes <paramref name="records"/> records (rounded up to whole batches) of
    /// <paramref name="recordBytes"/> bytes each to <paramref name="stream"/>.</summary>
    public static Task<LoadResult> PutRecordsAsync(BenchContext ctx, string stream, long records, int recordBytes)
    {
        int batchSize = ctx.Options.BatchSize;
        long batches = (records + batchSize - 1) / batchSize;
        var bodies = BatchBodies(ctx.Codec, stream, (int)Math.Min(batches, DistinctBatchBodies), batchSize, recordBytes);

        return LoadLoop.RunAsync(ctx.Options.Concurrency, batches, ctx.Options.Duration, async (index, cancellation) =>
        {
            using var response = await ctx.Client.SendAsync("PutRecords", bodies[index % bodies.Length], cancellation).ConfigureAwait(false);
            if (!response.IsSuccess)
                return Outcome.Failed(response.Describe());
            long failed = ctx.Codec.ReadInt64(response, "FailedRecordCount") ?? 0;
            return new Outcome(batchSize - failed, failed, failed > 0 ? $"{failed} of {batchSize} records failed" : null);
        });
    }

    /// <summary>
    /// <paramref name="count"/> distinct PutRecords bodies of <paramref name="batchSize"/> random records of
    /// <paramref name="recordBytes"/> bytes each, every record with a partition key of its own (so batches spread
    /// over every shard), hashed for SigV4 now rather than on the clock. Seeded by the record size: every run
    /// sends the same bodies.
    /// </summary>
    public static RequestBody[] BatchBodies(KinesisCodec codec, string stream, int count, int batchSize, int recordBytes)
    {
        var random = new Random(recordBytes);
        var bodies = new RequestBody[count];
        for (int b = 0; b < bodies.Length; b++)
        {
            var entries = new KinesisJson.Entry[batchSize];
            for (int i = 0; i < batchSize; i++)
            {
                byte[] data = new byte[recordBytes];
                random.NextBytes(data);
                entries[i] = new KinesisJson.Entry($"pk-{b}-{i}-{random.Next():x8}", data);
            }
            bodies[b] = codec.PutRecords(stream, entries);
            _ = bodies[b].Sha256Hex; // hash now, not on the clock
        }
        return bodies;
    }

    /// <summary>Sends <paramref name="count"/> PutRecord requests of <paramref name="recordBytes"/> bytes each.</summary>
    public static Task<LoadResult> PutRecordAsync(BenchContext ctx, string stream, long count, int recordBytes)
    {
        var random = new Random(recordBytes + 1);
        var bodies = new RequestBody[(int)Math.Min(count, DistinctSingleBodies)];
        for (int b = 0; b < bodies.Length; b++)
        {
            byte[] data = new byte[recordBytes];
            random.NextBytes(data);
            bodies[b] = KinesisJson.PutRecord(stream, $"pk-{b}-{random.Next():x8}", data);
            _ = bodies[b].Sha256Hex;
        }

        return LoadLoop.RunAsync(ctx.Options.Concurrency, count, ctx.Options.Duration, async (index, cancellation) =>
        {
            using var response = await ctx.Client.SendAsync("PutRecord", bodies[index % bodies.Length], cancellation).ConfigureAwait(false);
            return response.IsSuccess ? new Outcome(1, 0, null) : new Outcome(0, 1, response.Describe());
        });
    }
}
