using Runnel.Firehose.Channels;

namespace Runnel.Firehose.Tests;

/// <summary>
/// A channel's output key template as AWS documents it (docs/adr/0002-firehose-channels.md, 6): its default and
/// documented examples evaluated at 2026-07-20 14:30 UTC, and each rule it enforces refused in a message that quotes
/// what is wrong.
/// </summary>
public class ChannelKeyTemplateTests
{
    private static readonly DateTimeOffset At = new(2026, 7, 20, 14, 30, 45, TimeSpan.Zero);

    private static ChannelKeyTemplate Parse(string template, string compression = "NONE") =>
        ChannelKeyTemplate.Parse(template, compression, "my-channel", "ID", "my-stream");

    [Fact]
    public void The_default_template_puts_the_suffix_before_the_extension()
    {
        Assert.Equal("kinesis-channel/my-channel/ID/2026/07/20/14/my-channel-ID-2026-07-20-14-30-SUFFIX.gz",
            Parse(ChannelKeyTemplate.Default, "GZIP").Evaluate(At, "-SUFFIX"));
        Assert.Equal("kinesis-channel/my-channel/ID/2026/07/20/14/my-channel-ID-2026-07-20-14-30-SUFFIX.zst",
            Parse(ChannelKeyTemplate.Default, "ZSTD").Evaluate(At, "-SUFFIX"));
    }

    [Fact]
    public void Without_compression_the_default_template_has_no_extension()
    {
        var template = Parse(ChannelKeyTemplate.Default);
        Assert.Equal("kinesis-channel/my-channel/ID/2026/07/20/14/my-channel-ID-2026-07-20-14-30-SUFFIX", template.Evaluate(At, "-SUFFIX"));
        Assert.Equal("", template.Extension);
        Assert.Equal(ChannelKeyTemplate.Default, template.Text);
    }

    [Theory]
    [InlineData("!{channel-name}/!{yyyy}/!{MM}/!{dd}/!{HH}/records!{extension}", "GZIP", "my-channel/2026/07/20/14/records-SUFFIX.gz")]
    [InlineData("data/stream=!{stream-name}/!{yyyy}-!{MM}-!{dd}/!{HH}!{mm}!{extension:.json}", "NONE", "data/stream=my-stream/2026-07-20/1430-SUFFIX.json")]
    [InlineData("!{channel-name}/!{channel-id}", "NONE", "my-channel/ID-SUFFIX")]
    [InlineData("logs/!{yy}/!{MM}/", "NONE", "logs/26/07/-SUFFIX")]
    [InlineData("year=!{yyyy}/(a)_b*c'd!e.f/x!{extension:.json.gz}", "GZIP", "year=2026/(a)_b*c'd!e.f/x-SUFFIX.json.gz")]
    [InlineData("out/!{extension}", "NONE", "out/-SUFFIX")]
    public void AWS_s_documented_examples_evaluate(string text, string compression, string key) =>
        Assert.Equal(key, Parse(text, compression).Evaluate(At, "-SUFFIX"));

    [Fact]
    public void Times_are_UTC_and_of_fixed_width()
    {
        var template = Parse("!{yyyy}/!{yy}/!{MM}/!{dd}/!{HH}/!{mm}");
        Assert.Equal("2026/26/07/20/14/30", template.Evaluate(new DateTimeOffset(2026, 7, 20, 23, 30, 0, TimeSpan.FromHours(9)), ""));
        Assert.Equal("0999/99/01/02/03/04", template.Evaluate(new DateTimeOffset(999, 1, 2, 3, 4, 5, TimeSpan.Zero), ""));
    }

    [Fact]
    public void A_literal_extension_replaces_the_compression_s()
    {
        var template = Parse("a/b!{extension:.json.gz}", "GZIP");
        Assert.Equal(".json.gz", template.Extension);
        Assert.Equal("a/b-1.json.gz", template.Evaluate(At, "-1"));
    }

    [Fact]
    public void A_template_expands_to_at_most_986_characters_so_the_key_fits_S3()
    {
        string suffix = "-" + new string('s', ChannelKeyTemplate.MaxSuffixLength - 1);
        var longest = Parse(new string('a', 976) + "!{channel-name}"); // 976 + "my-channel"
        Assert.Equal(ChannelKeyTemplate.MaxKeyLength, longest.Evaluate(At, suffix).Length);
        var error = Assert.Throws<FormatException>(() => Parse(new string('a', 980) + "!{channel-name}"));
        Assert.Contains("expands to 990 characters, more than the 986 allowed", error.Message);
        error = Assert.Throws<FormatException>(() => Parse(new string('a', 982) + "!{HH}!{extension}", "ZSTD")); // 982 + 2 + ".zst"
        Assert.Contains("expands to 988 characters", error.Message);
        Assert.Throws<ArgumentException>(() => longest.Evaluate(At, suffix + "s"));
    }

    [Theory]
    [InlineData("/logs/!{yyyy}", "NONE", "must not start with '/'")]
    [InlineData("logs/../!{yyyy}", "NONE", "must not contain '..' (at position 6)")]
    [InlineData("logs/a..b", "NONE", "must not contain '..'")]
    [InlineData("logs//!{yyyy}", "NONE", "must not contain '//' (at position 5)")]
    [InlineData("logs/./!{yyyy}", "NONE", "path segment that is only '.'")]
    [InlineData("./!{yyyy}", "NONE", "path segment that is only '.'")]
    [InlineData("logs/!{extension}/!{yyyy}", "GZIP", "The extension placeholder '!{extension}' must come at the very end")]
    [InlineData("logs/!{mm}!{extension}.txt", "NONE", "The extension placeholder '!{extension}' must come at the very end")]
    [InlineData("logs/!{extension:.json}/", "NONE", "'!{extension:.json}' must come at the very end")]
    [InlineData("logs/!{extension}!{extension:.json}", "GZIP", "more than one extension placeholder ('!{extension}' and '!{extension:.json}')")]
    [InlineData("logs/!{partition-id}/", "NONE", "The placeholder '!{partition-id}' in the output key template is not supported")]
    [InlineData("logs/!{YYYY}/", "NONE", "'!{YYYY}'")]
    [InlineData("logs/!{}/", "NONE", "'!{}'")]
    [InlineData("logs/!{yyyy}", "GZIP", "With GZIP compression the output key template must contain an extension placeholder")]
    [InlineData("logs/!{yyyy}", "ZSTD", "With ZSTD compression")]
    [InlineData("logs/!{yyyy", "NONE", "The placeholder '!{yyyy' in the output key template is not closed with '}'")]
    [InlineData("logs/!{yyyy/!{MM}", "NONE", "The placeholder '!{yyyy/' in the output key template is not closed")]
    [InlineData("logs/my file", "NONE", "The character ' ' at position 8 of the output key template is not allowed")]
    [InlineData("logs/a:b", "NONE", "The character ':' at position 7")]
    [InlineData("logs/{yyyy}", "NONE", "The character '{' at position 6")]
    [InlineData("logs/yyyy}", "NONE", "The character '}' at position 10")]
    [InlineData("logs/\u00e9t\u00e9", "NONE", "The character '\u00e9' at position 6")]
    [InlineData("logs/\ta", "NONE", "The character U+0009 at position 6")]
    [InlineData("logs/!{extension:json}", "GZIP", "The extension in '!{extension:json}' must start with '.' and hold only lowercase letters and periods")]
    [InlineData("logs/!{extension:.JSON}", "GZIP", "'!{extension:.JSON}'")]
    [InlineData("logs/!{extension:.mp4}", "NONE", "'!{extension:.mp4}'")]
    [InlineData("logs/!{extension:}", "NONE", "'!{extension:}'")]
    [InlineData("logs/!{extension:.json..gz}", "GZIP", "must not contain '..'")]
    [InlineData("", "NONE", "The output key template is empty.")]
    public void Templates_breaking_a_rule_are_refused_with_what_is_wrong(string text, string compression, string message)
    {
        var error = Assert.Throws<FormatException>(() => Parse(text, compression));
        Assert.Contains(message, error.Message);
        Assert.EndsWith(".", error.Message);
    }

    [Fact]
    public void Only_the_channel_compression_types_are_taken() =>
        Assert.Throws<ArgumentException>(() => Parse(ChannelKeyTemplate.Default, "Snappy"));
}
