using System.Security.Cryptography;

namespace Runnel.Server.Kinesis;

/// <summary>
/// Request ids as AWS makes them: time-based (version 1) UUIDs, lower case. The node id is random per
/// process (multicast bit set, as RFC 4122 asks for random node ids); the clock sequence is random.
/// Thread-safe.
/// </summary>
internal static class RequestId
{
    private static readonly long GregorianOffsetTicks = new DateTime(1582, 10, 15, 0, 0, 0, DateTimeKind.Utc).Ticks;
    private static readonly byte[] Node = MakeNode();
    private static readonly ushort ClockSequence = (ushort)(RandomNumberGenerator.GetInt32(0x4000) | 0x8000);
    private static long _lastTimestamp;

    /// <summary>A new id for a request answered at <paramref name="now"/> (the server's clock).</summary>
    public static string Next(DateTimeOffset now)
    {
        // 100-ns intervals since 1582-10-15, made strictly increasing so two ids never collide.
        long ticks = now.UtcTicks - GregorianOffsetTicks;
        long last, next;
        do
        {
            last = Volatile.Read(ref _lastTimestamp);
            next = Math.Max(ticks, last + 1);
        }
        while (Interlocked.CompareExchange(ref _lastTimestamp, next, last) != last);

        Span<byte> b = stackalloc byte[16];
        uint timeLow = (uint)(next & 0xFFFFFFFF);
        ushort timeMid = (ushort)((next >> 32) & 0xFFFF);
        ushort timeHigh = (ushort)(((next >> 48) & 0x0FFF) | 0x1000); // version 1
        b[0] = (byte)(timeLow >> 24); b[1] = (byte)(timeLow >> 16); b[2] = (byte)(timeLow >> 8); b[3] = (byte)timeLow;
        b[4] = (byte)(timeMid >> 8); b[5] = (byte)timeMid;
        b[6] = (byte)(timeHigh >> 8); b[7] = (byte)timeHigh;
        b[8] = (byte)(ClockSequence >> 8); b[9] = (byte)ClockSequence;
        Node.CopyTo(b[10..]);
        return new Guid(b, bigEndian: true).ToString(); // the 8-4-4-4-12 form, lower case, in one string
    }

    private static byte[] MakeNode()
    {
        var node = RandomNumberGenerator.GetBytes(6);
        node[0] |= 0x01;
        return node;
    }
}
