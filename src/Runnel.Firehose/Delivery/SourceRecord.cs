namespace Runnel.Firehose.Delivery;

/// <summary>
/// A record as a delivery stream reads it from its source: which part of the source (0 for a DirectPut log, the shard
/// index for a Kinesis stream), its position there (the log offset), its approximate arrival time (Unix ms) and its
/// bytes, valid only during the call it is given to.
/// </summary>
public readonly ref struct SourceRecord(int source, ulong position, long arrivalMillis, ReadOnlySpan<byte> data)
{
    public int Source { get; } = source;

    public ulong Position { get; } = position;

    public long ArrivalMillis { get; } = arrivalMillis;

    public ReadOnlySpan<byte> Data { get; } = data;
}
