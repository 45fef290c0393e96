using System.Runtime.CompilerServices;
using Runnel.Storage.Records;

namespace Runnel.Storage.Encryption;

/// <summary>
/// Encryption at rest over any backend (docs/security.md): the logs it opens seal each record of an append whose batch
/// names a key (<see cref="RecordBatch.SealWith"/>, set by the writer from the stream's encryption), and open sealed
/// records as they are read (<see cref="ILogKeys"/>), so that both backends store only ciphertext and every reader (GetRecords, fan-out,
/// delivery) sees records as they were put. Records of a log that is not encrypted pass through untouched.
/// Thread-safe, as the store it wraps.
/// </summary>
public sealed class EncryptingShardStore(IShardStore inner, ILogKeys keys) : IShardStore
{
    private readonly ConditionalWeakTable<IShardLog, EncryptingShardLog> _wrapped = [];

    private IShardLog Wrap(IShardLog log, long streamId, int shardIndex) =>
        _wrapped.GetValue(log, l => new EncryptingShardLog(l, streamId, shardIndex, keys));

    public IShardLog Open(long streamId, int shardIndex) => Wrap(inner.Open(streamId, shardIndex), streamId, shardIndex);

    public async ValueTask<IShardLog> OpenAsync(long streamId, int shardIndex) =>
        Wrap(await inner.OpenAsync(streamId, shardIndex).ConfigureAwait(false), streamId, shardIndex);

    public IShardLog? OpenIfPresent(long streamId, int shardIndex) =>
        inner.OpenIfPresent(streamId, shardIndex) is { } log ? Wrap(log, streamId, shardIndex) : null;

    public void DeleteStream(long streamId) => inner.DeleteStream(streamId);

    public void ForgetStream(long streamId) => inner.ForgetStream(streamId);

    public IEnumerable<long> OrphanedStreams(IReadOnlySet<long> known) => inner.OrphanedStreams(known);

    public void Dispose() => inner.Dispose();
}

/// <summary>One shard's log, sealing appends and opening reads; see <see cref="EncryptingShardStore"/>.</summary>
internal sealed class EncryptingShardLog(IShardLog inner, long logId, int shardIndex, ILogKeys keys) : IShardLog
{
    public ulong NextOffset => inner.NextOffset;

    public long LastArrivalMillis => inner.LastArrivalMillis;

    public bool IsClosed => inner.IsClosed;

    public event Action? AppendedElsewhere
    {
        add => inner.AppendedElsewhere += value;
        remove => inner.AppendedElsewhere -= value;
    }

    public ValueTask<AppendResult> AppendAsync(RecordBatch batch) =>
        batch.SealWith is { } key ? AppendSealedAsync(batch, key) : inner.AppendAsync(batch);

    private async ValueTask<AppendResult> AppendSealedAsync(RecordBatch batch, LogKey key)
    {
        using var sealedBatch = Seal(batch, key);
        return await inner.AppendAsync(sealedBatch).ConfigureAwait(false);
    }

    private RecordBatch Seal(RecordBatch batch, LogKey key)
    {
        var sealedBatch = new RecordBatch(batch.Length + batch.Count * (RecordCipher.SealedSize(0, 0, 0) + RecordFrame.FixedBodySize));
        byte[]? body = null;
        try
        {
            using var sealer = new RecordCipher.Sealer(key, logId, shardIndex);
            var frames = batch.Frames.Span;
            for (int i = 0; i < batch.Count; i++)
            {
                int start = batch.FrameStart(i);
                var frame = frames[start..(i + 1 < batch.Count ? batch.FrameStart(i + 1) : batch.Length)];
                var view = RecordFrame.Parse(frame, 0);
                int size = RecordCipher.SealedSize(view.PartitionKeyLength, view.ExplicitHashKeyLength, view.DataLength);
                if (body is null || body.Length < size)
                {
                    if (body is not null)
                        BufferPool.Bytes.Return(body);
                    body = BufferPool.Bytes.Rent(size);
                }
                sealer.Seal(frame.Slice(view.PartitionKeyStart, view.PartitionKeyLength), frame.Slice(view.ExplicitHashKeyStart, view.ExplicitHashKeyLength),
                    frame.Slice(view.DataStart, view.DataLength), body.AsSpan(0, size));
                sealedBatch.AddEncrypted(key.Id, body.AsSpan(0, size));
            }
            return sealedBatch;
        }
        catch
        {
            sealedBatch.Dispose();
            throw;
        }
        finally
        {
            if (body is not null)
                BufferPool.Bytes.Return(body);
        }
    }

    /// <summary>What sealing adds to a record's payload at most: the sealed body's header, lengths and tag, and an
    /// explicit hash key (at most 39 decimal digits), which the payload does not count in the clear.</summary>
    private static readonly int MaxSealingOverhead = RecordCipher.SealedSize(0, 0, 0) + 39;

    /// <summary>
    /// Reads as the log below does, with <paramref name="maxBytes"/> counted on the records as put: the log below is
    /// asked for enough more to cover what sealing added, and the answer is cut back to <paramref name="maxBytes"/>.
    /// </summary>
    public async ValueTask<ReadResult> ReadAsync(ulong fromOffset, int maxRecords, long maxBytes, long minArrivalMillis, CancellationToken cancellationToken = default)
    {
        long allowance = (long)Math.Max(maxRecords, 0) * MaxSealingOverhead;
        long asked = maxBytes > long.MaxValue - allowance ? long.MaxValue : maxBytes + allowance;
        var result = await inner.ReadAsync(fromOffset, maxRecords, asked, minArrivalMillis, cancellationToken).ConfigureAwait(false);
        if (!HasSealed(result))
        {
            CutTo(result, maxBytes);
            return result;
        }
        try
        {
            var opened = Opened(result);
            CutTo(opened, maxBytes);
            return opened;
        }
        finally
        {
            result.Dispose();
        }
    }

    /// <summary>Drops the records past <paramref name="maxBytes"/> (never the first); the next read starts at the first dropped.</summary>
    private static void CutTo(ReadResult result, long maxBytes)
    {
        if (result.PayloadBytes <= maxBytes)
            return;
        long total = 0;
        var records = result.Records;
        for (int i = 0; i < records.Length; i++)
        {
            total += records[i].DataLength + records[i].PartitionKeyLength;
            if (i > 0 && total > maxBytes)
            {
                result.NextOffset = records[i].Offset;
                result.Truncate(i);
                return;
            }
        }
    }

    private static bool HasSealed(ReadResult result)
    {
        foreach (ref readonly var record in result.Records)
            if (record.IsEncrypted)
                return true;
        return false;
    }

    /// <summary>The records of <paramref name="result"/> with every sealed one opened (flagged <see cref="RecordFrame.FlagDecrypted"/>).</summary>
    private ReadResult Opened(ReadResult result)
    {
        var opened = new ReadResult(result.Buffer.Length) { NextOffset = result.NextOffset };
        byte[] plain = BufferPool.Bytes.Rent(1024);
        try
        {
            using var opener = new RecordCipher.Opener(keys, logId, shardIndex);
            using var frame = new RecordBatch(1024);
            foreach (ref readonly var record in result.Records)
            {
                var data = result.Data(record);
                if (plain.Length < data.Length)
                {
                    BufferPool.Bytes.Return(plain);
                    plain = BufferPool.Bytes.Rent(data.Length);
                }
                frame.Clear();
                if (record.IsEncrypted)
                {
                    var (pk, ehk, body) = opener.Open(record.KeyId, data, plain);
                    frame.AddOpened(plain.AsSpan(pk), plain.AsSpan(ehk), plain.AsSpan(body), record.KeyId);
                }
                else
                {
                    frame.Add(result.PartitionKey(record), result.ExplicitHashKey(record), data);
                }
                frame.Seal(record.Offset, record.ArrivalMillis);
                opened.TryAdd(frame.Frames.Span, long.MaxValue);
            }
            return opened;
        }
        catch
        {
            opened.Dispose();
            throw;
        }
        finally
        {
            BufferPool.Bytes.Return(plain);
        }
    }

    public ValueTask<ulong> FirstOffsetAtOrAfterAsync(long arrivalMillis, CancellationToken cancellationToken = default) =>
        inner.FirstOffsetAtOrAfterAsync(arrivalMillis, cancellationToken);

    public void EnforceRetention(long cutoffMillis) => inner.EnforceRetention(cutoffMillis);

    public void Flush() => inner.Flush();

    public ulong Close() => inner.Close();

    public void Dispose() => inner.Dispose();
}
