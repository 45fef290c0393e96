using System.Globalization;

namespace Runnel.Bench;

/// <summary>
/// A small <c>--name value</c> / <c>--flag</c> parser: the tool has three subcommands and a dozen
/// options each, not enough to take a dependency for. Unknown options are errors, so a typo in
/// bench/run.sh fails loudly instead of silently running the defaults. Not thread-safe.
/// </summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public CommandLine(IEnumerable<string> args, IReadOnlySet<string> flags)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            string arg = e.Current;
            if (!arg.StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"unexpected argument '{arg}'");
            string name = arg[2..];
            string value;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (flags.Contains(name))
            {
                value = "true";
            }
            else if (!e.MoveNext())
            {
                throw new ArgumentException($"--{name} needs a value");
            }
            else
            {
                value = e.Current;
            }
            if (!_values.TryGetValue(name, out var list))
                _values[name] = list = [];
            list.Add(value);
        }
    }

    public string? String(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var list) ? list[^1] : null;
    }

    public string String(string name, string fallback) => String(name) ?? fallback;

    public IReadOnlyList<string> All(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var list) ? list : [];
    }

    public bool Flag(string name) => String(name) is { } v && v != "false";

    public long Int64(string name, long fallback, long min = 0)
    {
        string? text = String(name);
        if (text is null)
            return fallback;
        if (!long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) || value < min)
            throw new ArgumentException($"--{name} must be an integer of at least {min}, not '{text}'");
        return value;
    }

    public int Int32(string name, int fallback, int min = 0) => checked((int)Int64(name, fallback, min));

    public double Double(string name, double fallback, double min = 0)
    {
        string? text = String(name);
        if (text is null)
            return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < min)
            throw new ArgumentException($"--{name} must be a number of at least {min}, not '{text}'");
        return value;
    }

    /// <summary>A length of time written with a unit (<c>500ms</c>, <c>30s</c>, <c>10m</c>, <c>1h</c>) or as plain seconds (<c>90</c>).</summary>
    public TimeSpan Duration(string name, TimeSpan fallback, TimeSpan min)
    {
        string? text = String(name);
        if (text is null)
            return fallback;
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], TimeSpan.FromMilliseconds(1))
            : text.EndsWith('s') ? (text[..^1], TimeSpan.FromSeconds(1))
            : text.EndsWith('m') ? (text[..^1], TimeSpan.FromMinutes(1))
            : text.EndsWith('h') ? (text[..^1], TimeSpan.FromHours(1))
            : (text, TimeSpan.FromSeconds(1));
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value) || unit * value < min)
            throw new ArgumentException($"--{name} must be a time of at least {min.TotalSeconds:0.###} s (e.g. 30s, 10m, 1h, or seconds), not '{text}'");
        return unit * value;
    }

    /// <summary>Throws when an option was given that no one asked for.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).Select(k => "--" + k).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"unknown option {string.Join(", ", unknown)}");
    }
}
