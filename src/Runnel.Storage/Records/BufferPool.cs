using System.Buffers;
using Runnel.Core.Buffers;

namespace Runnel.Storage.Records;

/// <summary>
/// The pool of the log's record buffers: the server's one bounded pool (<see cref="BoundedBufferPool"/>),
/// shared with request and response bodies, so that one byte budget covers them all and idle trimming
/// empties it.
/// </summary>
internal static class BufferPool
{
    public static ArrayPool<byte> Bytes => BoundedBufferPool.Default;
}
