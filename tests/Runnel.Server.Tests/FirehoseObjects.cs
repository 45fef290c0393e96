using System.IO.Compression;
using System.Text;

namespace Runnel.Server.Tests;

/// <summary>What Firehose delivered into a bucket directory: the objects' keys and the records in them.</summary>
public static class FirehoseObjects
{
    public static List<string> Keys(string bucket) => Directory.Exists(bucket)
        ? [.. Directory.EnumerateFiles(bucket, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(bucket, f).Replace('\\', '/'))
            .Where(k => !Path.GetFileName(k).StartsWith('.')) // a write in progress
            .Order(StringComparer.Ordinal)]
        : [];

    /// <summary>Every object's content, decompressed (.gz), joined, split into newline-ended records.</summary>
    public static List<string> Records(string bucket) =>
        [.. Keys(bucket).SelectMany(key => Read(Path.Combine(bucket, key)).Split('\n', StringSplitOptions.RemoveEmptyEntries))];

    private static string Read(string path)
    {
        using var file = File.OpenRead(path);
        using Stream content = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(content, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Waits until every one of <paramref name="expected"/> was delivered (at most <paramref name="seconds"/>); returns what was.</summary>
    public static async Task<List<string>> WaitForAsync(string bucket, IReadOnlyCollection<string> expected, int seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            List<string> delivered;
            try
            {
                delivered = Records(bucket);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
                continue;
            }
            var missing = expected.Except(delivered).ToList();
            if (missing.Count == 0)
                return delivered;
            Assert.True(DateTime.UtcNow < deadline, $"{missing.Count} of {expected.Count} records were not delivered within {seconds} s, e.g. {missing[0]}; objects: {string.Join(", ", Keys(bucket).Take(5))}");
            await Task.Delay(50);
        }
    }

    /// <summary>The body of a PutRecordBatch of these records (each sent with a newline after it).</summary>
    public static string Batch(string stream, IEnumerable<string> records) =>
        $$"""{"DeliveryStreamName":"{{stream}}","Records":[{{string.Join(",", records.Select(r => $$"""{"Data":"{{Convert.ToBase64String(Encoding.UTF8.GetBytes(r + "\n"))}}"}"""))}}]}""";
}
