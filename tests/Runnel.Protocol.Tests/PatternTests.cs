using System.Text.RegularExpressions;
using Runnel.Protocol.Validation;

namespace Runnel.Protocol.Tests;

/// <summary>The hand-written matchers mean exactly what the model's regexes mean.</summary>
public class PatternTests
{
    [Theory]
    [InlineData("[a-zA-Z0-9_.-]+")]
    [InlineData(@"0|([1-9]\d{0,38})")]
    [InlineData(@"0|([1-9]\d{0,128})")]
    public void Fast_matchers_agree_with_the_regexes(string pattern)
    {
        // Java's String.matches(): the whole string, and \d means ASCII digits only.
        var regex = new Regex(@"\A(?:" + pattern.Replace(@"\d", "[0-9]", StringComparison.Ordinal) + @")\z");
        var fast = Members.Str("x", pattern: pattern).Pattern!;
        string[] samples =
        [
            "", "0", "00", "01", "1", "10", "9", "a", "A-b_c.d", "a b", "é", "abc/", "-", ".", "_",
            new string('9', 38), new string('9', 39), "1" + new string('0', 38), "1" + new string('0', 39),
            new string('1', 128), new string('1', 129), new string('1', 130), "12a", "١٢", "+1", "-1", "1\n",
        ];
        foreach (string sample in samples)
            Assert.True(regex.IsMatch(sample) == fast(sample), $"'{sample}' against {pattern}");
    }
}
