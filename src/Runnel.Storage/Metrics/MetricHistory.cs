using System.Globalization;
using System.Text;
using System.Text.Json;
using Runnel.Core.Metrics;

namespace Runnel.Storage.Metrics;

/// <summary>One metric as CloudWatch names it: namespace, name, dimensions (ordered by name), unit.</summary>
public sealed record MetricSeries(string Namespace, string Name, IReadOnlyList<KeyValuePair<string, string>> Dimensions, string Unit)
{
    /// <summary>A text that is equal for equal series (namespace, name and dimensions; the unit apart).</summary>
    public string Key => Namespace + "\u001f" + Name + "\u001f" + string.Join("\u001e", Dimensions.Select(d => d.Key + "=" + d.Value));
}

/// <summary>
/// The metrics' history on disk: each minute's statistic set of every series that had samples, appended once a minute
/// to a file per UTC hour (<c>DIR/yyyyMMddHH.jsonl</c>, one JSON line per minute; docs/formats/metrics.md), kept for a
/// retention period (files wholly older are deleted), read back by series and time range. A line cut by a crash is
/// skipped when read. Thread-safe: appends and reads lock; reads parse the hours they cover.
/// </summary>
public sealed class MetricHistory : IMetricHistory
{
    private readonly string _directory;
    private readonly TimeSpan _retention;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (MetricSeries Series, long LastMinute)> _series = new(StringComparer.Ordinal);

    /// <summary>The newest hour files read, parsed, with the length they had then: alarms and the console's charts read
    /// the last hour or two every minute or few seconds, and a file that did not grow need not be parsed again.</summary>
    private readonly Dictionary<string, (long Length, List<(long Minute, List<(MetricSeries Series, StatisticSet Statistics)> Entries)> Minutes)> _parsed = new(StringComparer.Ordinal);

    private const int ParsedFilesKept = 3;

    /// <summary>
    /// The version of the lines written (member <c>v</c>; absent in version 1): 2 adds each entry's distribution. Readers
    /// of version 1 read version 2's lines as before, without the distributions (docs/formats/metrics.md).
    /// </summary>
    public const int Version = 2;

    public MetricHistory(string directory, TimeSpan retention)
    {
        _directory = directory;
        _retention = retention;
        Directory.CreateDirectory(directory);
        foreach (string file in Directory.EnumerateFiles(directory, "*.jsonl").Order(StringComparer.Ordinal))
        {
            EndTornLine(file);
            foreach (var (minute, entries) in ReadFile(file))
                foreach (var (series, _) in entries)
                    _series[series.Key] = (series, minute);
        }
    }

    /// <summary>
    /// Ends a line a crash cut (a file not ending with a newline), so that the next minute appended to the hour starts a
    /// line of its own instead of being joined to the torn one and lost with it.
    /// </summary>
    private static void EndTornLine(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        if (stream.Length == 0)
            return;
        stream.Seek(-1, SeekOrigin.End);
        if (stream.ReadByte() != '\n')
            stream.WriteByte((byte)'\n');
    }

    public TimeSpan Retention => _retention;

    /// <summary>Appends the minute starting at <paramref name="minute"/> (Unix seconds, a multiple of 60).</summary>
    public void Append(long minute, IReadOnlyCollection<(MetricSeries Series, StatisticSet Statistics)> entries)
    {
        if (entries.Count == 0)
            return;
        var line = new MemoryStream();
        Encode(line, minute, entries);
        line.WriteByte((byte)'\n');
        lock (_lock)
        {
            using (var file = new FileStream(FileOf(minute), FileMode.Append, FileAccess.Write, FileShare.Read))
                file.Write(line.GetBuffer(), 0, (int)line.Length);
            foreach (var (series, _) in entries)
                _series[series.Key] = (series, minute);
        }
    }

    /// <summary>One minute as a JSON line without its newline (docs/formats/metrics.md): what a file line and a cluster's message hold.</summary>
    public static void Encode(Stream line, long minute, IReadOnlyCollection<(MetricSeries Series, StatisticSet Statistics)> entries)
    {
        using (var json = new Utf8JsonWriter(line))
        {
            json.WriteStartObject();
            json.WriteNumber("v", Version);
            json.WriteNumber("t", minute);
            json.WriteStartArray("m");
            foreach (var (series, s) in entries)
            {
                json.WriteStartArray();
                json.WriteStringValue(series.Namespace);
                json.WriteStringValue(series.Name);
                json.WriteStartObject();
                foreach (var (key, value) in series.Dimensions)
                    json.WriteString(key, value);
                json.WriteEndObject();
                json.WriteStringValue(series.Unit);
                json.WriteNumberValue(s.SampleCount);
                json.WriteNumberValue(s.Sum);
                json.WriteNumberValue(s.Minimum);
                json.WriteNumberValue(s.Maximum);
                if (s.Distribution is { } distribution)
                    Encode(json, distribution);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
    }

    /// <summary>A distribution as its entry's ninth element: the scale, then each bucket's index (the first as it is, the
    /// others as the gap from the one before) and count.</summary>
    private static void Encode(Utf8JsonWriter json, ValueDistribution distribution)
    {
        json.WriteStartArray();
        json.WriteNumberValue(distribution.Scale);
        int previous = 0;
        foreach (var (index, count) in distribution.Buckets)
        {
            json.WriteNumberValue(index - previous);
            json.WriteNumberValue(count);
            previous = index;
        }
        json.WriteEndArray();
    }

    /// <summary>A distribution written by <see cref="Encode(Utf8JsonWriter, ValueDistribution)"/>; <see cref="FormatException"/> when it is not one.</summary>
    private static ValueDistribution Distribution(JsonElement element)
    {
        int length = element.GetArrayLength();
        if (length < 3 || length % 2 == 0)
            throw new FormatException("a distribution is a scale and pairs of index and count");
        var indexes = new int[length / 2];
        var counts = new long[length / 2];
        int index = 0;
        for (int i = 0; i < indexes.Length; i++)
        {
            index += element[1 + (2 * i)].GetInt32();
            indexes[i] = index;
            counts[i] = element[2 + (2 * i)].GetInt64();
        }
        try
        {
            return new ValueDistribution(element[0].GetDouble(), indexes, counts);
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>Deletes the hours wholly older than the retention period before <paramref name="now"/>.</summary>
    public void Trim(DateTimeOffset now)
    {
        string oldest = Name(now - _retention - TimeSpan.FromHours(1));
        lock (_lock)
        {
            foreach (string file in Directory.EnumerateFiles(_directory, "*.jsonl"))
                if (string.CompareOrdinal(Path.GetFileName(file), oldest) < 0)
                    File.Delete(file);
            long cutoff = (now - _retention).ToUnixTimeSeconds();
            foreach (var key in _series.Where(s => s.Value.LastMinute < cutoff).Select(s => s.Key).ToList())
                _series.Remove(key);
        }
    }

    /// <summary>Every series with a minute in the history, with its latest minute (Unix seconds).</summary>
    public IReadOnlyList<(MetricSeries Series, long LastMinute)> Series()
    {
        lock (_lock)
            return _series.Values.ToList();
    }

    /// <summary>The minutes of the series of <paramref name="key"/> (<see cref="MetricSeries.Key"/>) from
    /// <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive), Unix seconds, each with its unit.</summary>
    public IReadOnlyList<(long Minute, string Unit, StatisticSet Statistics)> Read(string key, long from, long to)
    {
        var found = new List<(long, string, StatisticSet)>();
        lock (_lock)
        {
            for (long hour = from / 3600 * 3600; hour < to; hour += 3600)
            {
                string file = FileOf(hour);
                if (!File.Exists(file))
                    continue;
                foreach (var (minute, entries) in Parsed(file))
                    if (minute >= from && minute < to)
                        foreach (var (series, statistics) in entries)
                            if (series.Key == key)
                                found.Add((minute, series.Unit, statistics));
            }
        }
        return found;
    }

    /// <summary>A file's minutes, from <see cref="_parsed"/> when it has not grown since; the caller holds the lock.</summary>
    private List<(long Minute, List<(MetricSeries Series, StatisticSet Statistics)> Entries)> Parsed(string file)
    {
        long length = new FileInfo(file).Length;
        if (_parsed.TryGetValue(file, out var held) && held.Length == length)
            return held.Minutes;
        var minutes = ReadFile(file).ToList();
        _parsed[file] = (length, minutes);
        foreach (string old in _parsed.Keys.Order(StringComparer.Ordinal).SkipLast(ParsedFilesKept).ToList())
            _parsed.Remove(old);
        return minutes;
    }

    private string FileOf(long unixSeconds) => Path.Combine(_directory, Name(DateTimeOffset.FromUnixTimeSeconds(unixSeconds)));

    private static string Name(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture) + ".jsonl";

    /// <summary>The minutes of one file; lines that do not parse (a write cut by a crash) are skipped.</summary>
    private static IEnumerable<(long Minute, List<(MetricSeries, StatisticSet)> Entries)> ReadFile(string file)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file, Encoding.UTF8);
        }
        catch (FileNotFoundException)
        {
            yield break;
        }
        foreach (string line in lines)
        {
            var parsed = Parse(line);
            if (parsed is { } minute)
                yield return minute;
        }
    }

    /// <summary>A minute's line read back; null when it does not parse.</summary>
    public static (long Minute, List<(MetricSeries Series, StatisticSet Statistics)> Entries)? Parse(string line)
    {
        if (line.Length == 0)
            return null;
        try
        {
            using var json = JsonDocument.Parse(line);
            long minute = json.RootElement.GetProperty("t").GetInt64();
            var entries = new List<(MetricSeries, StatisticSet)>();
            foreach (var m in json.RootElement.GetProperty("m").EnumerateArray())
            {
                var dimensions = m[2].EnumerateObject().Select(d => new KeyValuePair<string, string>(d.Name, d.Value.GetString() ?? "")).ToList();
                entries.Add((new MetricSeries(m[0].GetString()!, m[1].GetString()!, dimensions, m[3].GetString()!),
                    new StatisticSet(m[4].GetDouble(), m[5].GetDouble(), m[6].GetDouble(), m[7].GetDouble())
                    {
                        Distribution = m.GetArrayLength() > 8 && m[8].ValueKind == JsonValueKind.Array ? Distribution(m[8]) : null,
                    }));
            }
            return (minute, entries);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or IndexOutOfRangeException or FormatException)
        {
            return null;
        }
    }
}
