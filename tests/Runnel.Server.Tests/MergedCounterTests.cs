using Runnel.Server.Metrics;

namespace Runnel.Server.Tests;

/// <summary>
/// Entries that share labels are one series, their counts summed, and the sum never goes down when one of them is
/// forgotten while another is left (Prometheus would read a reset); when none is left the series ends.
/// </summary>
public sealed class MergedCounterTests
{
    private static Dictionary<string, long> Of(IReadOnlyList<(string Labels, long Value)> sums) => sums.ToDictionary(s => s.Labels, s => s.Value);

    [Fact]
    public void Entries_with_the_same_labels_are_summed_and_a_forgotten_entry_keeps_its_count_in_the_sum()
    {
        var counter = new MergedCounter<string>();
        object python311 = new(), python312 = new(), other = new();
        Assert.Equal(new Dictionary<string, long> { ["AKID Boto3/1.26.27"] = 8, ["AKID aws-sdk-js/3"] = 1 },
            Of(counter.Sum([(python311, "AKID Boto3/1.26.27", 5), (python312, "AKID Boto3/1.26.27", 3), (other, "AKID aws-sdk-js/3", 1)])));

        // One of the two goes (its client was silent too long); the other counted one more.
        Assert.Equal(new Dictionary<string, long> { ["AKID Boto3/1.26.27"] = 9, ["AKID aws-sdk-js/3"] = 1 },
            Of(counter.Sum([(python311, "AKID Boto3/1.26.27", 6), (other, "AKID aws-sdk-js/3", 1)])));
        Assert.Equal(9, Of(counter.Sum([(python311, "AKID Boto3/1.26.27", 6), (other, "AKID aws-sdk-js/3", 1)]))["AKID Boto3/1.26.27"]);

        // Both gone: the series ends; one with those labels later starts again from its own count.
        Assert.Equal(["AKID aws-sdk-js/3"], Of(counter.Sum([(other, "AKID aws-sdk-js/3", 2)])).Keys);
        Assert.Equal(1, Of(counter.Sum([(new object(), "AKID Boto3/1.26.27", 1), (other, "AKID aws-sdk-js/3", 2)]))["AKID Boto3/1.26.27"]);
    }
}
