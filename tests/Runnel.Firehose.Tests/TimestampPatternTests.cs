using Runnel.Firehose.Naming;

namespace Runnel.Firehose.Tests;

/// <summary>
/// A prefix's <c>!{timestamp:…}</c> patterns print as Java's DateTimeFormatter prints them (AWS documents them so);
/// the expected strings are Java's output for the same instants.
/// </summary>
public class TimestampPatternTests
{
    // Monday 5 March 2018, 07:08:09.123 UTC: day 64 of the year.
    private static readonly DateTimeOffset Instant = new(2018, 3, 5, 7, 8, 9, 123, TimeSpan.Zero);

    [Theory]
    [InlineData("yyyy/MM/dd/HH/", "2018/03/05/07/")] // AWS's default prefix
    [InlineData("yyyy'-'MM'-'dd", "2018-03-05")]
    [InlineData("'year='yyyy'/month='MM'/day='dd'/'", "year=2018/month=03/day=05/")]
    [InlineData("yy", "18")]
    [InlineData("y", "2018")]
    [InlineData("yyyyy", "02018")]
    [InlineData("uuuu", "2018")]
    [InlineData("M", "3")]
    [InlineData("MMM", "Mar")]
    [InlineData("MMMM", "March")]
    [InlineData("MMMMM", "M")]
    [InlineData("d", "5")]
    [InlineData("D", "64")]
    [InlineData("DDD", "064")]
    [InlineData("H:m:s", "7:8:9")]
    [InlineData("HH:mm:ss.SSS", "07:08:09.123")]
    [InlineData("S", "1")]
    [InlineData("SSSSSS", "123000")]
    [InlineData("h a", "7 AM")]
    [InlineData("KK", "07")]
    [InlineData("E", "Mon")]
    [InlineData("EEE", "Mon")]
    [InlineData("EEEE", "Monday")]
    [InlineData("EEEEE", "M")]
    [InlineData("''yyyy''", "'2018'")]
    [InlineData("'it''s' yyyy", "it's 2018")]
    [InlineData("[yyyy]", "2018")]
    [InlineData("'dt='yyyy-MM-dd_HH.mm", "dt=2018-03-05_07.08")]
    public void Patterns_print_as_Java_prints_them(string pattern, string expected)
    {
        Assert.Equal(expected, TimestampPattern.Format(pattern, Instant));
        TimestampPattern.Check(pattern);
    }

    [Fact]
    public void Clock_hours_and_the_half_day_at_midnight_and_noon()
    {
        var midnight = new DateTimeOffset(2018, 3, 5, 0, 30, 0, TimeSpan.Zero);
        Assert.Equal("12 AM 24 0", TimestampPattern.Format("h a k K", midnight));
        Assert.Equal("12 PM 12 0", TimestampPattern.Format("h a k K", midnight.AddHours(12)));
    }

    [Fact]
    public void The_instant_prints_in_its_own_offset()
    {
        var tokyo = Instant.ToOffset(TimeSpan.FromHours(9));
        Assert.Equal("2018/03/05/16", TimestampPattern.Format("yyyy/MM/dd/HH", tokyo));
    }

    [Theory]
    [InlineData("YYYY")]   // week-based year: not served
    [InlineData("ww")]     // week of week-based year
    [InlineData("z")]      // zone names
    [InlineData("ddd")]    // too many
    [InlineData("HHH")]
    [InlineData("MMMMMM")]
    [InlineData("aa")]
    [InlineData("yyyy'")]  // unclosed quote
    [InlineData("yyyy{")]  // reserved
    [InlineData("#")]
    [InlineData("dt=yyyy")] // unquoted letters are fields: "t" is none
    public void Patterns_Java_would_refuse_or_Runnel_does_not_print_are_refused(string pattern)
    {
        var e = Assert.Throws<FormatException>(() => TimestampPattern.Check(pattern));
        Assert.Contains(pattern.TrimEnd('\'', '{'), e.Message);
    }
}
