namespace Runnel.Firehose.Delivery;

/// <summary>
/// A record as a delivery stream reads it from its source: which part of the source (0 for a DirectPut log, the shard
/// index for a Kinesis stream), its position there (the log offset), and its bytes, valid for the call it is given to.
/// </summary>
public readonly ref struct SourceRecord(int source, ulong position, ReadOnlySpan<byte> data)
{
    public int Source { get; } = source;

    public ulong Position { get; } = position;

    public ReadOnlySpan<byte> Data { get; } = data;
}
