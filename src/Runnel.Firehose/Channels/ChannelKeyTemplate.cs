using System.Globalization;
using System.Text;
using Runnel.Firehose.Delivery;

namespace Runnel.Firehose.Channels;

/// <summary>
/// A channel's <c>OutputKeyTemplate</c>: the S3 key of each object the channel delivers, as literal text and
/// <c>!{name}</c> placeholders (docs/adr/0002-firehose-channels.md, 6). The channel's names and the extension are
/// fixed when the template is parsed; only the UTC time fields vary per object, and a unique suffix goes just before
/// the extension (or at the end). <see cref="Parse"/> applies AWS's rules. Immutable, thread-safe.
/// </summary>
public sealed class ChannelKeyTemplate
{
    /// <summary>The template a channel gets when it names none.</summary>
    public const string Default = "kinesis-channel/!{channel-name}/!{channel-id}/!{yyyy}/!{MM}/!{dd}/!{HH}/!{channel-name}-!{channel-id}-!{yyyy}-!{MM}-!{dd}-!{HH}-!{mm}!{extension}";

    /// <summary>S3's longest key, in characters.</summary>
    public const int MaxKeyLength = 1024;

    /// <summary>The longest unique suffix Kinesis appends to a key, in characters.</summary>
    public const int MaxSuffixLength = 38;

    /// <summary>The longest a template may expand to, so that it still fits S3 with the suffix.</summary>
    public const int MaxExpandedLength = MaxKeyLength - MaxSuffixLength;

    /// <summary>The literal characters allowed outside placeholders besides ASCII letters and digits.</summary>
    private const string LiteralPunctuation = "!-_'.*()/=";

    private const string ExtensionName = "extension";

    private readonly Part[] _parts;
    private readonly int _expandedLength; // the extension included

    private ChannelKeyTemplate(string text, Part[] parts, string extension, int expandedLength)
    {
        Text = text;
        _parts = parts;
        Extension = extension;
        _expandedLength = expandedLength;
    }

    /// <summary>What a part of the key is: fixed text, or a UTC time field of a fixed width.</summary>
    private enum Field { Text, Year, YearOfCentury, Month, Day, Hour, Minute }

    /// <summary>One part of the key before the extension; <paramref name="Text"/> is only set for <see cref="Field.Text"/>.</summary>
    private readonly record struct Part(Field Field, string Text)
    {
        public int Length => Field switch
        {
            Field.Text => Text.Length,
            Field.Year => 4,
            _ => 2,
        };
    }

    /// <summary>The template as given.</summary>
    public string Text { get; }

    /// <summary>What ends every key: the compression's extension, the template's literal one, or empty when the
    /// template has no extension placeholder or the compression is <c>NONE</c>.</summary>
    public string Extension { get; }

    /// <summary>
    /// Reads <paramref name="template"/> for a channel whose objects are compressed by <paramref name="compressionType"/>
    /// (<c>NONE</c>, <c>GZIP</c> or <c>ZSTD</c>), its names and stream's name put in place now. Throws
    /// <see cref="FormatException"/>, its message one sentence for the API caller, when the template breaks a rule:
    /// an unclosed or unsupported placeholder, a literal character other than an ASCII letter, a digit or
    /// <c>! - _ ' . * ( ) / =</c>, a leading <c>/</c>, <c>//</c>, <c>..</c>, a segment that is only <c>.</c>, more than one
    /// extension placeholder or one before the end, none with compression, or more than
    /// <see cref="MaxExpandedLength"/> characters once expanded.
    /// </summary>
    public static ChannelKeyTemplate Parse(string template, string compressionType, string channelName, string channelId, string streamName)
    {
        var compression = ObjectCompression.ForChannel(compressionType)
            ?? throw new ArgumentException($"'{compressionType}' is not a channel's compression type.", nameof(compressionType));
        if (template.Length == 0)
            throw new FormatException("The output key template is empty.");
        var parts = new List<Part>();
        var literal = new StringBuilder();
        string? extension = null, extensionPlaceholder = null;
        int extensionEnd = 0;
        for (int i = 0; i < template.Length;)
        {
            if (template[i] != '!' || i + 1 == template.Length || template[i + 1] != '{')
            {
                if (!IsLiteral(template[i]))
                    throw new FormatException($"The character {Quote(template, i)} at position {i + 1} of the output key template is not allowed; outside placeholders use only letters, digits and ! - _ ' . * ( ) / =.");
                literal.Append(template[i++]);
                continue;
            }
            int end = template.IndexOf('}', i + 2), next = template.IndexOf("!{", i + 2, StringComparison.Ordinal);
            if (end < 0 || (next >= 0 && next < end))
                throw new FormatException($"The placeholder '{Shorten(template[i..(next >= 0 ? next : template.Length)])}' in the output key template is not closed with '}}'.");
            string placeholder = template[i..(end + 1)], name = template[(i + 2)..end];
            if (name == ExtensionName || name.StartsWith(ExtensionName + ":", StringComparison.Ordinal))
            {
                if (extensionPlaceholder is not null)
                    throw new FormatException($"The output key template has more than one extension placeholder ('{extensionPlaceholder}' and '{placeholder}'); it may have one, at its very end.");
                extension = name.Length == ExtensionName.Length ? compression.Extension : ExtensionLiteral(placeholder, name[(ExtensionName.Length + 1)..]);
                extensionPlaceholder = placeholder;
                extensionEnd = end + 1;
            }
            else
            {
                var part = name switch
                {
                    "channel-name" => new Part(Field.Text, channelName),
                    "channel-id" => new Part(Field.Text, channelId),
                    "stream-name" => new Part(Field.Text, streamName),
                    "yyyy" => new Part(Field.Year, ""),
                    "yy" => new Part(Field.YearOfCentury, ""),
                    "MM" => new Part(Field.Month, ""),
                    "dd" => new Part(Field.Day, ""),
                    "HH" => new Part(Field.Hour, ""),
                    "mm" => new Part(Field.Minute, ""),
                    _ => throw new FormatException($"The placeholder '{placeholder}' in the output key template is not supported; use !{{channel-name}}, !{{channel-id}}, !{{stream-name}}, !{{yyyy}}, !{{yy}}, !{{MM}}, !{{dd}}, !{{HH}}, !{{mm}}, !{{extension}} or !{{extension:.<literal>}}."),
                };
                if (part.Field == Field.Text)
                    literal.Append(part.Text);
                else
                {
                    Flush(literal, parts);
                    parts.Add(part);
                }
            }
            i = end + 1;
        }
        Flush(literal, parts);
        CheckPaths(template);
        if (extensionPlaceholder is not null && extensionEnd != template.Length)
            throw new FormatException($"The extension placeholder '{extensionPlaceholder}' must come at the very end of the output key template.");
        if (extensionPlaceholder is null && compression != ObjectCompression.Uncompressed)
            throw new FormatException($"With {compressionType} compression the output key template must contain an extension placeholder, such as !{{extension}}.");
        extension ??= "";
        int expandedLength = parts.Sum(p => p.Length) + extension.Length;
        if (expandedLength > MaxExpandedLength)
            throw new FormatException($"The output key template expands to {expandedLength} characters, more than the {MaxExpandedLength} allowed ({MaxKeyLength} for an S3 key less {MaxSuffixLength} for the unique suffix).");
        return new ChannelKeyTemplate(template, [.. parts], extension, expandedLength);
    }

    /// <summary>
    /// The key of an object made at <paramref name="instant"/> (its time fields in UTC), with
    /// <paramref name="uniqueSuffix"/> (at most <see cref="MaxSuffixLength"/> characters, e.g. <c>"-"</c> and a
    /// UUID) just before the <see cref="Extension"/>, or at the end when there is none.
    /// </summary>
    public string Evaluate(DateTimeOffset instant, string uniqueSuffix)
    {
        if (uniqueSuffix.Length > MaxSuffixLength)
            throw new ArgumentException($"The unique suffix has {uniqueSuffix.Length} characters, more than {MaxSuffixLength}.", nameof(uniqueSuffix));
        var utc = instant.UtcDateTime;
        var key = new StringBuilder(_expandedLength + uniqueSuffix.Length);
        Span<char> digits = stackalloc char[4];
        foreach (var part in _parts)
        {
            if (part.Field == Field.Text)
            {
                key.Append(part.Text);
                continue;
            }
            int value = part.Field switch
            {
                Field.Year => utc.Year,
                Field.YearOfCentury => utc.Year % 100,
                Field.Month => utc.Month,
                Field.Day => utc.Day,
                Field.Hour => utc.Hour,
                _ => utc.Minute,
            };
            value.TryFormat(digits, out int written, part.Field == Field.Year ? "D4" : "D2", CultureInfo.InvariantCulture);
            key.Append(digits[..written]);
        }
        return key.Append(uniqueSuffix).Append(Extension).ToString();
    }

    /// <summary>The literal of <c>!{extension:.literal}</c>: a period, then only lowercase letters and periods.</summary>
    private static string ExtensionLiteral(string placeholder, string literal)
    {
        if (literal.Length == 0 || literal[0] != '.' || !literal.All(c => c is '.' or >= 'a' and <= 'z'))
            throw new FormatException($"The extension in '{placeholder}' must start with '.' and hold only lowercase letters and periods, as in !{{extension:.json}}.");
        return literal;
    }

    /// <summary>Refuses what would make a path S3 consoles and file systems read wrongly. Placeholders hold no
    /// slash, so the template's own text is split into segments; its <c>..</c> can only be in literal text or an
    /// extension literal.</summary>
    private static void CheckPaths(string template)
    {
        if (template[0] == '/')
            throw new FormatException("The output key template must not start with '/'.");
        int at = template.IndexOf("//", StringComparison.Ordinal);
        if (at >= 0)
            throw new FormatException($"The output key template must not contain '//' (at position {at + 1}).");
        at = template.IndexOf("..", StringComparison.Ordinal);
        if (at >= 0)
            throw new FormatException($"The output key template must not contain '..' (at position {at + 1}).");
        if (template.Split('/').Contains("."))
            throw new FormatException("The output key template must not have a path segment that is only '.'.");
    }

    /// <summary>ASCII letters and digits (S3's safe characters) and <see cref="LiteralPunctuation"/>.</summary>
    private static bool IsLiteral(char c) => char.IsAsciiLetterOrDigit(c) || LiteralPunctuation.Contains(c);

    private static void Flush(StringBuilder literal, List<Part> parts)
    {
        if (literal.Length > 0)
            parts.Add(new Part(Field.Text, literal.ToString()));
        literal.Clear();
    }

    /// <summary>The character at <paramref name="index"/> as a message quotes it: in quotes, or as its code point when
    /// it would not show (a control character, a tab, half of a broken surrogate pair).</summary>
    private static string Quote(string text, int index)
    {
        if (!Rune.TryGetRuneAt(text, index, out var rune))
            return $"U+{(int)text[index]:X4}";
        return Rune.IsControl(rune) || (Rune.IsWhiteSpace(rune) && rune.Value != ' ') ? $"U+{rune.Value:X4}" : $"'{rune}'";
    }

    /// <summary>At most the first 40 characters of an unclosed placeholder, so a long template is not quoted whole.</summary>
    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
