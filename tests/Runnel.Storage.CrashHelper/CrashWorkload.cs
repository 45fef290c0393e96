using System.Globalization;
using Runnel.Storage.Log;

namespace Runnel.Storage.CrashHelper;

/// <summary>
/// What the crash helper writes and prints, shared with the test that kills it (the test project links
/// this file), so that both sides agree on every record's content and on the acknowledgement lines.
/// Every record names its writer in its partition key, <c>g{generation}-w{writer}-s{seq}</c>, and its
/// data is a pure function of those three numbers: any surviving record can be checked for damage.
/// </summary>
public static class CrashWorkload
{
    /// <summary>Small segments, so that kills land in segment rolls too; a short idle timeout, so that
    /// they land in handle closes and reopens; a short fsync interval.</summary>
    public static LogOptions Options(FsyncPolicy fsync) => new()
    {
        Fsync = fsync,
        FsyncInterval = TimeSpan.FromMilliseconds(20),
        SegmentBytes = 256 * 1024,
        IndexIntervalBytes = 4096,
        IdleHandleTimeout = TimeSpan.FromMilliseconds(30),
    };

    public const long StreamId = 1;

    public static string PartitionKey(int generation, int writer, long seq) =>
        string.Create(CultureInfo.InvariantCulture, $"g{generation}-w{writer}-s{seq}");

    public static bool TryParsePartitionKey(string key, out int generation, out int writer, out long seq)
    {
        generation = writer = 0;
        seq = 0;
        var parts = key.Split('-');
        return parts.Length == 3 && parts[0].StartsWith('g') && parts[1].StartsWith('w') && parts[2].StartsWith('s')
            && int.TryParse(parts[0].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out generation)
            && int.TryParse(parts[1].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out writer)
            && long.TryParse(parts[2].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out seq);
    }

    /// <summary>The data of a record: mostly under 2 KiB, one in 32 between 64 KiB and 256 KiB, so that
    /// some writes take long enough for a kill to land inside them.</summary>
    public static byte[] Data(int generation, int writer, long seq)
    {
        ulong state = Mix((ulong)generation << 48 ^ (ulong)writer << 40 ^ (ulong)seq);
        int size = (state & 31) == 0 ? 64 * 1024 + (int)(state >> 8 & 0x2FFFF) : (int)(state >> 8 & 2047);
        // Cheap to make (the helper should spend its time writing, not generating), yet different at every
        // position and in every record, so a misplaced or stale byte shows.
        var data = new byte[size];
        for (int i = 0; i < size; i++)
            data[i] = (byte)((byte)(state >> ((i & 7) * 8)) ^ (byte)(i >> 3));
        return data;
    }

    private static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }

    /// <summary>One acknowledged append: <paramref name="count"/> records of one writer, from
    /// <paramref name="firstSeq"/>, at <paramref name="firstOffset"/> of <paramref name="shard"/>.
    /// The trailing "end" tells a whole line from one cut by the kill.</summary>
    public readonly record struct Ack(int Shard, ulong FirstOffset, int Count, int Generation, int Writer, long FirstSeq)
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"ack {Shard} {FirstOffset} {Count} {Generation} {Writer} {FirstSeq} end");

        public static bool TryParse(string line, out Ack ack)
        {
            ack = default;
            var p = line.Split(' ');
            if (p.Length != 8 || p[0] != "ack" || p[7] != "end")
                return false;
            var c = CultureInfo.InvariantCulture;
            if (!int.TryParse(p[1], c, out int shard) || !ulong.TryParse(p[2], c, out ulong offset) || !int.TryParse(p[3], c, out int count)
                || !int.TryParse(p[4], c, out int generation) || !int.TryParse(p[5], c, out int writer) || !long.TryParse(p[6], c, out long seq))
                return false;
            ack = new Ack(shard, offset, count, generation, writer, seq);
            return true;
        }
    }
}
