using System.Globalization;
using System.Text;

namespace Runnel.Firehose.Naming;

/// <summary>
/// The patterns of a prefix's <c>!{timestamp:…}</c> expressions, which AWS documents as Java <c>DateTimeFormatter</c>
/// patterns (for example <c>yyyy'-'MM'-'dd</c>). The letters a prefix can use are served as Java prints them in the
/// English locale: year <c>y</c>/<c>u</c> (two letters: the last two digits), month <c>M</c> (three: <c>Jan</c>, four:
/// <c>January</c>, five: <c>J</c>), day of month <c>d</c>, day of year <c>D</c>, hour <c>H</c> (0-23), <c>k</c> (1-24),
/// <c>h</c> (1-12), <c>K</c> (0-11), minute <c>m</c>, second <c>s</c>, fraction <c>S</c> (one digit per letter),
/// <c>a</c> (AM/PM), day of week <c>E</c> (up to three: <c>Mon</c>, four: <c>Monday</c>, five: <c>M</c>). Text in
/// single quotes is literal (<c>''</c> is a quote); other non-letters print as they are; optional sections
/// (<c>[…]</c>) print, since every field is present. Any other letter (week-based fields, zones, eras), a letter
/// repeated more than Java allows, <c>{</c>, <c>}</c>, <c>#</c> or an unclosed quote is refused with
/// <see cref="FormatException"/>, as Java refuses what it does not know (Firehose's page in docs/compatibility.md
/// is to list the letters served once Firehose is served). Stateless and thread-safe.
/// </summary>
public static class TimestampPattern
{
    private static readonly string[] Months = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames;
    private static readonly string[] Days = CultureInfo.InvariantCulture.DateTimeFormat.DayNames;

    /// <summary>Throws <see cref="FormatException"/> saying what is wrong when <paramref name="pattern"/> is not one
    /// this class prints; for checking a prefix when a delivery stream is configured.</summary>
    public static void Check(string pattern) => Format(pattern, DateTimeOffset.UnixEpoch);

    /// <summary>The instant as <paramref name="pattern"/> prints it, in the instant's own offset.</summary>
    public static string Format(string pattern, DateTimeOffset instant)
    {
        var text = new StringBuilder(pattern.Length + 8);
        var t = instant.DateTime;
        for (int i = 0; i < pattern.Length;)
        {
            char c = pattern[i];
            if (c == '\'')
            {
                i = Quoted(pattern, i, text);
                continue;
            }
            if (c is '[' or ']')
            {
                i++;
                continue;
            }
            if (c is '{' or '}' or '#')
                throw new FormatException($"'{c}' is reserved in a timestamp pattern (at {i} in \"{pattern}\").");
            if (!char.IsAsciiLetter(c))
            {
                text.Append(c);
                i++;
                continue;
            }
            int count = 1;
            while (i + count < pattern.Length && pattern[i + count] == c)
                count++;
            text.Append(Field(c, count, t, pattern, i));
            i += count;
        }
        return text.ToString();
    }

    private static int Quoted(string pattern, int at, StringBuilder text)
    {
        int i = at + 1;
        if (i < pattern.Length && pattern[i] == '\'')
        {
            text.Append('\'');
            return i + 1;
        }
        while (true)
        {
            if (i >= pattern.Length)
                throw new FormatException($"The quote at {at} in \"{pattern}\" is not closed.");
            if (pattern[i] == '\'')
            {
                if (i + 1 < pattern.Length && pattern[i + 1] == '\'')
                {
                    text.Append('\'');
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            text.Append(pattern[i++]);
        }
    }

    private static string Field(char letter, int count, DateTime t, string pattern, int at)
    {
        string Number(int value, int maxCount) => count <= maxCount
            ? value.ToString(new string('0', count), CultureInfo.InvariantCulture)
            : throw TooMany(letter, pattern, at);
        return letter switch
        {
            'y' or 'u' => count == 2
                ? (t.Year % 100).ToString("00", CultureInfo.InvariantCulture)
                : t.Year.ToString(new string('0', count), CultureInfo.InvariantCulture),
            'M' => count switch
            {
                <= 2 => Number(t.Month, 2),
                3 => Months[t.Month - 1][..3],
                4 => Months[t.Month - 1],
                5 => Months[t.Month - 1][..1],
                _ => throw TooMany(letter, pattern, at),
            },
            'd' => Number(t.Day, 2),
            'D' => Number(t.DayOfYear, 3),
            'H' => Number(t.Hour, 2),
            'k' => Number(t.Hour == 0 ? 24 : t.Hour, 2),
            'h' => Number(t.Hour % 12 == 0 ? 12 : t.Hour % 12, 2),
            'K' => Number(t.Hour % 12, 2),
            'm' => Number(t.Minute, 2),
            's' => Number(t.Second, 2),
            'S' => count <= 9
                ? (t.Ticks % TimeSpan.TicksPerSecond * 100).ToString("000000000", CultureInfo.InvariantCulture)[..count]
                : throw TooMany(letter, pattern, at),
            'a' => count == 1 ? (t.Hour < 12 ? "AM" : "PM") : throw TooMany(letter, pattern, at),
            'E' => count switch
            {
                <= 3 => Days[(int)t.DayOfWeek][..3],
                4 => Days[(int)t.DayOfWeek],
                5 => Days[(int)t.DayOfWeek][..1],
                _ => throw TooMany(letter, pattern, at),
            },
            _ => throw new FormatException($"The pattern letter '{letter}' (at {at} in \"{pattern}\") is not one Runnel prints; " +
                "it prints y u M d D H k h K m s S a E."),
        };
    }

    private static FormatException TooMany(char letter, string pattern, int at) =>
        new($"Too many pattern letters: {letter} (at {at} in \"{pattern}\").");
}
