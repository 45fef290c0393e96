using System.Text.Json;
using System.Text.Json.Serialization;

namespace Runnel.Bench.Reporting;

/// <summary>One measured number. <see cref="Id"/> is stable across runs and servers: compare matches on it.</summary>
public sealed record Metric(string Id, string Title, double Value, string Unit);

/// <summary>
/// Everything one run of the tool measured against one server: what <c>run</c> and <c>startup</c> write
/// with --json and what <c>compare</c> reads. Not thread-safe; scenarios add to it one after another.
/// </summary>
public sealed class BenchReport
{
    public string Label { get; set; } = "";
    public string Endpoint { get; set; } = "";
    public DateTimeOffset StartedUtc { get; set; } = DateTimeOffset.UtcNow;
    public Dictionary<string, string> Settings { get; set; } = new(StringComparer.Ordinal);
    public List<Metric> Metrics { get; set; } = [];
    public List<string> Notes { get; set; } = [];

    /// <summary>Whether a scenario failed outright (its metrics are then missing, and a note says why).</summary>
    public bool Failed { get; set; }

    public void Add(string id, string title, double value, string unit) => Metrics.Add(new Metric(id, title, value, unit));

    public void Note(string note) => Notes.Add(note);

    public double? Find(string id) => Metrics.FirstOrDefault(m => m.Id == id)?.Value;

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, ReportJsonContext.Default.BenchReport));

    public static BenchReport Load(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), ReportJsonContext.Default.BenchReport)
        ?? throw new InvalidDataException($"{path} holds no report");

    /// <summary>Several reports of the same server (run and startup) as one.</summary>
    public static BenchReport Merge(IEnumerable<BenchReport> parts)
    {
        var merged = new BenchReport();
        foreach (var part in parts)
        {
            if (merged.Label.Length == 0)
            {
                merged.Label = part.Label;
                merged.StartedUtc = part.StartedUtc;
            }
            if (merged.Endpoint.Length == 0)
                merged.Endpoint = part.Endpoint;
            foreach (var (key, value) in part.Settings)
                merged.Settings.TryAdd(key, value);
            merged.Metrics.AddRange(part.Metrics);
            merged.Notes.AddRange(part.Notes);
        }
        return merged;
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
