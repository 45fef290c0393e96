using System.Globalization;

namespace Runnel.Server.CloudWatch;

/// <summary>A time series of metric math: values by timestamp (Unix seconds), with its label.</summary>
public sealed record MathSeries(string Label, SortedDictionary<long, double> Points);

/// <summary>
/// CloudWatch's metric math over GetMetricData's queries (docs/adr/0003-observability-facts.md, 3.1): numbers, the
/// Ids of other queries, <c>+ - * / ^</c>, comparisons and AND/OR (0 or 1), arrays <c>[a, b]</c> and the functions
/// that need nothing but the series (ABS, AVG, CEIL, DATAPOINT_COUNT, DIFF, DIFF_TIME, FILL, FIRST, FLOOR, IF, LAST,
/// LOG, LOG10, MAX, METRIC_COUNT, METRICS, MIN, PERIOD, RATE, REMOVE_EMPTY, RUNNING_SUM, STDDEV, SUM). As AWS defines
/// them: in arithmetic a missing value counts as 0 and a division by zero drops the point; AVG, SUM, MIN, MAX and STDDEV
/// of one series are a number, of an array a series. Others (SEARCH, anomaly bands, Insights) are refused with
/// <c>ValidationError</c>. Knows nothing of the history or the wire. Not thread-safe: one evaluation at a time.
/// </summary>
public sealed class MetricMath
{
    /// <summary>What an expression evaluates to: a number, a series or an array of series.</summary>
    private abstract record Value;

    private sealed record Scalar(double Number) : Value;

    private sealed record One(MathSeries Series) : Value;

    private sealed record Many(IReadOnlyList<MathSeries> Series) : Value;

    private readonly Func<string, MathSeries?> _series;
    private readonly IReadOnlyList<(string Id, MathSeries Series)> _metrics;
    private readonly IReadOnlyList<long> _grid;
    private readonly int _period;
    private string _text = "";
    private int _at;

    /// <param name="series">The series of another query by its Id (evaluated on demand); null when there is no such query.</param>
    /// <param name="metrics">The MetricStat queries' series, for METRICS().</param>
    /// <param name="grid">Every period's timestamp in the range (FILL fills these).</param>
    public MetricMath(Func<string, MathSeries?> series, IReadOnlyList<(string Id, MathSeries Series)> metrics, IReadOnlyList<long> grid, int period)
    {
        _series = series;
        _metrics = metrics;
        _grid = grid;
        _period = period;
    }

    /// <summary>The series an expression gives: one, or several for an array (a number gives a series at every period).</summary>
    public IReadOnlyList<MathSeries> Evaluate(string expression, string label)
    {
        _text = expression;
        _at = 0;
        var value = Or();
        Skip();
        if (_at < _text.Length)
            throw Error($"unexpected '{_text[_at]}' at position {_at + 1}");
        return value switch
        {
            Scalar s => [new MathSeries(label, new SortedDictionary<long, double>(_grid.ToDictionary(t => t, _ => s.Number)))],
            One one => [one.Series with { Label = label }],
            Many many => many.Series,
            _ => [],
        };
    }

    private static CloudWatchException Error(string message) => new("ValidationError", $"Error in expression: {message}.");

    // ---- parsing and evaluating at once (recursive descent, lowest precedence first) ----

    private Value Or()
    {
        var left = And();
        while (Take("OR") || Take("||"))
            left = Combine(left, And(), (a, b) => a != 0 || b != 0 ? 1 : 0, missingAsZero: true);
        return left;
    }

    private Value And()
    {
        var left = Comparison();
        while (Take("AND") || Take("&&"))
            left = Combine(left, Comparison(), (a, b) => a != 0 && b != 0 ? 1 : 0, missingAsZero: true);
        return left;
    }

    private Value Comparison()
    {
        var left = Sum();
        while (true)
        {
            Func<double, double, bool>? compare = Take("==") ? (a, b) => a == b : Take("!=") ? (a, b) => a != b : Take("<=") ? (a, b) => a <= b
                : Take(">=") ? (a, b) => a >= b : Take("<") ? (a, b) => a < b : Take(">") ? (a, b) => a > b : null;
            if (compare is null)
                return left;
            var right = Sum();
            left = Combine(left, right, (a, b) => compare(a, b) ? 1 : 0, missingAsZero: true);
        }
    }

    private Value Sum()
    {
        var left = Product();
        while (true)
        {
            if (Take("+"))
                left = Combine(left, Product(), (a, b) => a + b, missingAsZero: true);
            else if (Take("-"))
                left = Combine(left, Product(), (a, b) => a - b, missingAsZero: true);
            else
                return left;
        }
    }

    private Value Product()
    {
        var left = Power();
        while (true)
        {
            if (Take("*"))
                left = Combine(left, Power(), (a, b) => a * b, missingAsZero: true);
            else if (Take("/"))
                left = Combine(left, Power(), (a, b) => b == 0 ? double.NaN : a / b, missingAsZero: true);
            else
                return left;
        }
    }

    private Value Power()
    {
        var left = Unary();
        if (Take("^"))
            return Combine(left, Power(), Math.Pow, missingAsZero: true);
        return left;
    }

    private Value Unary()
    {
        if (Take("-"))
            return Map(Unary(), v => -v);
        if (Take("+"))
            return Unary();
        return Primary();
    }

    private Value Primary()
    {
        Skip();
        if (_at >= _text.Length)
            throw Error("the expression ends too soon");
        char c = _text[_at];
        if (c == '(')
        {
            _at++;
            var inner = Or();
            Expect(")");
            return inner;
        }
        if (c == '[')
        {
            _at++;
            var items = new List<MathSeries>();
            if (!Take("]"))
            {
                do
                    items.AddRange(AsMany(Or()));
                while (Take(","));
                Expect("]");
            }
            return new Many(items);
        }
        if (char.IsAsciiDigit(c) || c == '.')
        {
            int start = _at;
            while (_at < _text.Length && (char.IsAsciiDigit(_text[_at]) || _text[_at] is '.' or 'e' or 'E' || (_text[_at] is '+' or '-' && _text[_at - 1] is 'e' or 'E')))
                _at++;
            return double.TryParse(_text.AsSpan(start, _at - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
                ? new Scalar(number) : throw Error($"'{_text[start.._at]}' is not a number");
        }
        if (c == '"')
            throw Error("a string is only an argument of METRICS");
        if (char.IsAsciiLetter(c) || c == '_')
        {
            int start = _at;
            while (_at < _text.Length && (char.IsAsciiLetterOrDigit(_text[_at]) || _text[_at] == '_'))
                _at++;
            string name = _text[start.._at];
            Skip();
            if (_at < _text.Length && _text[_at] == '(')
            {
                _at++;
                return Function(name.ToUpperInvariant());
            }
            return _series(name) is { } series ? new One(series) : throw Error($"Unrecognized identifier {name}");
        }
        throw Error($"unexpected '{c}' at position {_at + 1}");
    }

    private Value Function(string name)
    {
        if (name == "METRICS")
        {
            string? filter = null;
            Skip();
            if (_at < _text.Length && _text[_at] == '"')
            {
                int end = _text.IndexOf('"', _at + 1);
                if (end < 0)
                    throw Error("a string is not closed");
                filter = _text[(_at + 1)..end];
                _at = end + 1;
            }
            Expect(")");
            return new Many(_metrics.Where(m => filter is null || m.Id.Contains(filter, StringComparison.Ordinal)).Select(m => m.Series).ToList());
        }
        var arguments = new List<Value>();
        Skip();
        if (!Take(")"))
        {
            do
            {
                Skip();
                arguments.Add(name == "FILL" && arguments.Count == 1 && Peek("REPEAT") ? Word("REPEAT") : name == "FILL" && arguments.Count == 1 && Peek("LINEAR") ? Word("LINEAR") : Or());
            }
            while (Take(","));
            Expect(")");
        }
        Value Argument(int index) => index < arguments.Count ? arguments[index] : throw Error($"{name} needs {index + 1} argument{(index == 0 ? "" : "s")}");
        return name switch
        {
            "ABS" => Map(Argument(0), Math.Abs),
            "CEIL" => Map(Argument(0), Math.Ceiling),
            "FLOOR" => Map(Argument(0), Math.Floor),
            "LOG" => Map(Argument(0), v => v > 0 ? Math.Log(v) : double.NaN),
            "LOG10" => Map(Argument(0), v => v > 0 ? Math.Log10(v) : double.NaN),
            "SUM" => Aggregate(Argument(0), values => values.Sum()),
            "AVG" => Aggregate(Argument(0), values => values.Average()),
            "MIN" => Aggregate(Argument(0), values => values.Min()),
            "MAX" => Aggregate(Argument(0), values => values.Max()),
            "STDDEV" => Aggregate(Argument(0), StandardDeviation),
            "DATAPOINT_COUNT" => Aggregate(Argument(0), values => values.Count),
            "METRIC_COUNT" => new Scalar(AsMany(Argument(0)).Count),
            "FIRST" => AsMany(Argument(0)) is { Count: > 0 } first ? new One(first[0]) : new Many([]),
            "LAST" => AsMany(Argument(0)) is { Count: > 0 } last ? new One(last[^1]) : new Many([]),
            "REMOVE_EMPTY" => new Many(AsMany(Argument(0)).Where(s => s.Points.Count > 0).ToList()),
            "PERIOD" => new Scalar(_period),
            "DIFF" => Walk(Argument(0), (previous, current, _) => current - previous),
            "DIFF_TIME" => Walk(Argument(0), (_, _, seconds) => seconds),
            "RATE" => Walk(Argument(0), (previous, current, seconds) => (current - previous) / seconds),
            "RUNNING_SUM" => EachSeries(Argument(0), RunningSum),
            "FILL" => Fill(Argument(0), Argument(1)),
            "IF" => If(Argument(0), Argument(1), arguments.Count > 2 ? arguments[2] : null),
            _ => throw Error($"the function {name} is not served by Runnel (it serves ABS, AVG, CEIL, DATAPOINT_COUNT, DIFF, DIFF_TIME, FILL, FIRST, FLOOR, IF, LAST, LOG, LOG10, MAX, METRIC_COUNT, METRICS, MIN, PERIOD, RATE, REMOVE_EMPTY, RUNNING_SUM, STDDEV and SUM)"),
        };
    }

    private sealed record Keyword(string Word) : Value;

    private Value Word(string word)
    {
        Take(word);
        return new Keyword(word);
    }

    // ---- the operations ----

    private static List<MathSeries> AsMany(Value value) => value switch
    {
        One one => [one.Series],
        Many many => [.. many.Series],
        _ => throw Error("a function that takes series was given a number"),
    };

    private static Value Map(Value value, Func<double, double> f) => value switch
    {
        Scalar s => new Scalar(f(s.Number)),
        One one => new One(Apply(one.Series, f)),
        Many many => new Many(many.Series.Select(s => Apply(s, f)).ToList()),
        _ => throw Error("a keyword is not a value"),
    };

    private static MathSeries Apply(MathSeries series, Func<double, double> f)
    {
        var points = new SortedDictionary<long, double>();
        foreach (var (t, v) in series.Points)
            if (f(v) is var result && double.IsFinite(result))
                points[t] = result;
        return series with { Points = points };
    }

    /// <summary>A binary operation: numbers with numbers, pointwise on series (a missing value as 0 when asked; a result that is not finite is dropped), each series of an array.</summary>
    private static Value Combine(Value left, Value right, Func<double, double, double> op, bool missingAsZero) => (left, right) switch
    {
        (Scalar a, Scalar b) => new Scalar(op(a.Number, b.Number)),
        (Scalar a, One b) => new One(Apply(b.Series, v => op(a.Number, v))),
        (One a, Scalar b) => new One(Apply(a.Series, v => op(v, b.Number))),
        (One a, One b) => new One(Pointwise(a.Series, b.Series, op, missingAsZero)),
        (Many a, _) when right is not Many => new Many(a.Series.Select(s => ((One)Combine(new One(s), right, op, missingAsZero)).Series).ToList()),
        (_, Many b) when left is not Many => new Many(b.Series.Select(s => ((One)Combine(left, new One(s), op, missingAsZero)).Series).ToList()),
        _ => throw Error("an operation between two arrays is not defined"),
    };

    private static MathSeries Pointwise(MathSeries a, MathSeries b, Func<double, double, double> op, bool missingAsZero)
    {
        var points = new SortedDictionary<long, double>();
        foreach (long t in a.Points.Keys.Union(b.Points.Keys))
        {
            bool inA = a.Points.TryGetValue(t, out double x), inB = b.Points.TryGetValue(t, out double y);
            if (!missingAsZero && !(inA && inB))
                continue;
            double result = op(inA ? x : 0, inB ? y : 0);
            if (double.IsFinite(result))
                points[t] = result;
        }
        return new MathSeries(a.Label, points);
    }

    /// <summary>AVG, SUM, MIN, MAX, STDDEV, DATAPOINT_COUNT: of one series a number; of an array a series (per timestamp, over the series that have a value there).</summary>
    private static Value Aggregate(Value value, Func<IReadOnlyList<double>, double> f)
    {
        switch (value)
        {
            case Scalar s:
                return s;
            case One one:
                return one.Series.Points.Count == 0 ? new Scalar(double.NaN) : new Scalar(f(one.Series.Points.Values.ToList()));
            case Many many:
                var points = new SortedDictionary<long, double>();
                foreach (var group in many.Series.SelectMany(s => s.Points).GroupBy(p => p.Key))
                    points[group.Key] = f(group.Select(p => p.Value).ToList());
                return new One(new MathSeries("", points));
            default:
                throw Error("a keyword is not a value");
        }
    }

    private static double StandardDeviation(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
    }

    private static Value EachSeries(Value value, Func<MathSeries, MathSeries> f) => value switch
    {
        One one => new One(f(one.Series)),
        Many many => new Many(many.Series.Select(f).ToList()),
        _ => throw Error("a function that takes series was given a number"),
    };

    /// <summary>DIFF, DIFF_TIME, RATE: each point against the one before it (the first point has none).</summary>
    private static Value Walk(Value value, Func<double, double, double, double> f) => EachSeries(value, series =>
    {
        var points = new SortedDictionary<long, double>();
        (long T, double V)? previous = null;
        foreach (var (t, v) in series.Points)
        {
            if (previous is { } p && f(p.V, v, t - p.T) is var result && double.IsFinite(result))
                points[t] = result;
            previous = (t, v);
        }
        return series with { Points = points };
    });

    private static MathSeries RunningSum(MathSeries series)
    {
        var points = new SortedDictionary<long, double>();
        double total = 0;
        foreach (var (t, v) in series.Points)
            points[t] = total += v;
        return series with { Points = points };
    }

    /// <summary>FILL(series, number | REPEAT | LINEAR): a value at every period of the range.</summary>
    private Value Fill(Value value, Value with) => EachSeries(value, series =>
    {
        var points = new SortedDictionary<long, double>(series.Points);
        var known = series.Points.ToList();
        foreach (long t in _grid)
        {
            if (points.ContainsKey(t))
                continue;
            var before = known.LastOrDefault(p => p.Key < t);
            var after = known.FirstOrDefault(p => p.Key > t);
            bool hasBefore = known.Any(p => p.Key < t), hasAfter = known.Any(p => p.Key > t);
            switch (with)
            {
                case Scalar s:
                    points[t] = s.Number;
                    break;
                case One other when other.Series.Points.TryGetValue(t, out double v):
                    points[t] = v;
                    break;
                case Keyword { Word: "REPEAT" } when hasBefore:
                    points[t] = before.Value;
                    break;
                case Keyword { Word: "LINEAR" } when hasBefore && hasAfter:
                    points[t] = before.Value + ((after.Value - before.Value) * (t - before.Key) / (after.Key - before.Key));
                    break;
            }
        }
        return series with { Points = points };
    });

    /// <summary>IF(condition, then[, else]): pointwise; where the condition is 0 the else value, or no point without one.</summary>
    private Value If(Value condition, Value then, Value? otherwise)
    {
        double At(Value v, long t, out bool present)
        {
            present = true;
            switch (v)
            {
                case Scalar s:
                    return s.Number;
                case One one when one.Series.Points.TryGetValue(t, out double x):
                    return x;
                default:
                    present = false;
                    return 0;
            }
        }
        if (condition is Scalar c)
            return c.Number != 0 ? then : otherwise ?? new Many([]);
        if (condition is not One test)
            throw Error("IF's condition must be a number or one series");
        var points = new SortedDictionary<long, double>();
        foreach (var (t, v) in test.Series.Points)
        {
            var chosen = v != 0 ? then : otherwise;
            if (chosen is null)
                continue;
            double result = At(chosen, t, out bool present);
            if (present)
                points[t] = result;
        }
        return new One(new MathSeries(test.Series.Label, points));
    }

    // ---- tokens ----

    private void Skip()
    {
        while (_at < _text.Length && char.IsWhiteSpace(_text[_at]))
            _at++;
    }

    private bool Peek(string token)
    {
        Skip();
        return string.Compare(_text, _at, token, 0, token.Length, StringComparison.OrdinalIgnoreCase) == 0
            && (!char.IsAsciiLetter(token[^1]) || _at + token.Length >= _text.Length || !char.IsAsciiLetterOrDigit(_text[_at + token.Length]));
    }

    private bool Take(string token)
    {
        if (!Peek(token))
            return false;
        // "<" is not the start of "<=", nor "*" of anything; the longer operators are tried first by the callers.
        _at += token.Length;
        return true;
    }

    private void Expect(string token)
    {
        if (!Take(token))
            throw Error(_at < _text.Length ? $"expected '{token}' at position {_at + 1}" : $"expected '{token}' at the end");
    }
}
