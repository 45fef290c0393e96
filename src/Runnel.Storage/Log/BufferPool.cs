using System.Buffers;

namespace Runnel.Storage.Log;

/// <summary>
/// The pool of the log's record buffers. Bounded on purpose: buffers up to 4 MiB (a few per size) are kept for reuse
/// (the steady state of appends and reads), larger ones (a 10 MiB GetRecords) are left to the GC rather
/// than held for the life of the process, which is what the shared pool would do.
/// </summary>
internal static class BufferPool
{
    public static readonly ArrayPool<byte> Bytes = ArrayPool<byte>.Create(maxArrayLength: 4 * 1024 * 1024, maxArraysPerBucket: 8);
}
