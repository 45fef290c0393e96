using System.IO.Compression;
using Runnel.Firehose.Delivery;
using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;
using Snappier;

namespace Runnel.Firehose.Tests;

/// <summary>Objects as the file destination writes them: named as Firehose names S3 objects, compressed as configured,
/// whole or not at all, and never outside their directory.</summary>
public sealed class FileDestinationTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "runnel-firehose-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    /// <summary>Records as a delivery stream carries them: JSON lines, compressible.</summary>
    private static byte[] Payload(int seed, int length)
    {
        var random = new Random(seed);
        var text = new System.Text.StringBuilder();
        while (text.Length < length)
            text.Append("{\"ticker\":\"AMZN\",\"price\":").Append(random.Next(100_000)).Append(",\"seq\":").Append(random.NextInt64()).Append("}\n");
        return System.Text.Encoding.UTF8.GetBytes(text.ToString(0, length));
    }

    [Fact]
    public void An_object_is_named_as_Firehose_names_them()
    {
        var id = Guid.Parse("88ef8fea-d1f2-4ce0-9ec5-4fc5e2dcbcc4");
        var instant = new DateTimeOffset(2018, 3, 5, 7, 8, 9, 999, TimeSpan.Zero);
        Assert.Equal("orders-1-2018-03-05-07-08-09-88ef8fea-d1f2-4ce0-9ec5-4fc5e2dcbcc4.gz", ObjectName.Suffix("orders", 1, instant, id, ".gz"));
        Assert.Equal("a.b_c-12-2018-03-05-16-08-09-88ef8fea-d1f2-4ce0-9ec5-4fc5e2dcbcc4",
            ObjectName.Suffix("a.b_c", 12, instant.ToOffset(TimeSpan.FromHours(9)), id, ""));
    }

    [Theory]
    [InlineData("UNCOMPRESSED")]
    [InlineData("GZIP")]
    [InlineData("Snappy")]
    [InlineData("ZIP")]
    [InlineData("HADOOP_SNAPPY")]
    public void Each_compression_writes_what_its_readers_read_back(string name)
    {
        var compression = ObjectCompression.Named(name)!;
        var payload = Payload(1, 300_000);
        string path = new FileDestination(_root).Write("2018/03/05/07/orders-1" + compression.Extension, payload, compression);
        byte[] stored = File.ReadAllBytes(path);
        byte[] read = name switch
        {
            "GZIP" => Decompress(new GZipStream(new MemoryStream(stored), CompressionMode.Decompress)),
            "Snappy" => ReadXerialSnappy(stored),
            "ZIP" => ReadZip(stored),
            "HADOOP_SNAPPY" => ReadHadoopSnappy(stored),
            _ => stored,
        };
        Assert.Equal(payload, read);
        if (name == "Snappy")
            Assert.Equal([0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1], stored[..16]); // snappy-java's header, versions 1 and 1
        if (name != "UNCOMPRESSED")
            Assert.True(stored.Length < payload.Length);
    }

    [Fact]
    public void Compressions_are_named_as_the_API_spells_them_with_AWS_s_extensions()
    {
        Assert.Equal(["", ".gz", ".zip", ".snappy", ".snappy"],
            new[] { "UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY" }.Select(n => ObjectCompression.Named(n)!.Extension));
        Assert.Null(ObjectCompression.Named("gzip")); // the API's spelling only
        Assert.Null(ObjectCompression.Named("SNAPPY"));
    }

    [Fact]
    public void Objects_land_under_their_keys_whole_and_leave_nothing_partial()
    {
        var destination = new FileDestination(_root);
        destination.Write("a/b/c/one", Payload(2, 10), ObjectCompression.Uncompressed);
        destination.Write("a/b/two", Payload(3, 0), ObjectCompression.Uncompressed); // an empty object is an object
        string again = destination.Write("a/b/c/one", Payload(4, 5), ObjectCompression.Uncompressed); // a retried delivery replaces
        Assert.Equal(Payload(4, 5), File.ReadAllBytes(again));
        Assert.Empty(File.ReadAllBytes(Path.Combine(_root, "a", "b", "two")));
        Assert.Equal(["one", "two"], Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("a/../../outside")]
    [InlineData("/etc/passwd")]
    [InlineData("a/")]
    [InlineData("")]
    public void Keys_that_do_not_name_a_file_under_the_root_are_refused(string key)
    {
        Assert.Throws<ArgumentException>(() => new FileDestination(_root).Write(key, Payload(5, 1), ObjectCompression.Uncompressed));
        Assert.False(File.Exists(Path.Combine(Path.GetTempPath(), "outside")));
    }

    /// <summary>snappy-java's stream format, read as its reader does: the header, then length-prefixed raw blocks.</summary>
    private static byte[] ReadXerialSnappy(byte[] stored)
    {
        var output = new MemoryStream();
        for (int at = 16; at < stored.Length;)
        {
            int length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(stored.AsSpan(at));
            var block = Snappy.DecompressToArray(stored.AsSpan(at + 4, length));
            Assert.True(block.Length <= ObjectCompression.SnappyBlockBytes);
            output.Write(block);
            at += 4 + length;
        }
        return output.ToArray();
    }

    private static byte[] ReadZip(byte[] stored)
    {
        using var archive = new ZipArchive(new MemoryStream(stored), ZipArchiveMode.Read);
        var entry = Assert.Single(archive.Entries);
        Assert.True(Guid.TryParseExact(entry.FullName, "D", out _), entry.FullName);
        return Decompress(entry.Open());
    }

    /// <summary>Hadoop's block framing, read as BlockDecompressorStream does: each block's two lengths, then its bytes.</summary>
    private static byte[] ReadHadoopSnappy(byte[] stored)
    {
        var output = new MemoryStream();
        for (int at = 0; at < stored.Length;)
        {
            int raw = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(stored.AsSpan(at));
            int compressed = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(stored.AsSpan(at + 4));
            var block = Snappy.DecompressToArray(stored.AsSpan(at + 8, compressed));
            Assert.Equal(raw, block.Length);
            Assert.True(raw <= ObjectCompression.HadoopBlockBytes);
            output.Write(block);
            at += 8 + compressed;
        }
        return output.ToArray();
    }

    private static byte[] Decompress(Stream stream)
    {
        using (stream)
        {
            var output = new MemoryStream();
            stream.CopyTo(output);
            return output.ToArray();
        }
    }
}
