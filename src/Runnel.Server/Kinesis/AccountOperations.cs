using Runnel.Protocol;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>DescribeAccountSettings and UpdateAccountSettings: the minimum throughput billing commitment (<see cref="AccountSettings"/>).</summary>
internal static class AccountOperations
{
    public static ValueTask DescribeAccountSettings(KinesisRequest r)
    {
        Write(r.Response, r.Streams.SettingsOf(r.Account).Commitment); // the caller's account's
        return ValueTask.CompletedTask;
    }

    public static ValueTask UpdateAccountSettings(KinesisRequest r)
    {
        string status = r.Member("MinimumThroughputBillingCommitment")!.Value.GetProperty("Status").GetString();
        Write(r.Response, r.Streams.SettingsOf(r.Account).Change(enable: status == "ENABLED"));
        return ValueTask.CompletedTask;
    }

    private static void Write(IWireWriter w, BillingCommitment commitment)
    {
        w.StartObject();
        w.StartObject("MinimumThroughputBillingCommitment");
        w.String("Status", commitment.Status switch
        {
            CommitmentStatus.Enabled => "ENABLED",
            CommitmentStatus.EnabledUntilEarliestAllowedEnd => "ENABLED_UNTIL_EARLIEST_ALLOWED_END",
            _ => "DISABLED",
        });
        if (commitment.StartedAt is { } started)
            w.Timestamp("StartedAt", started.ToUnixTimeMilliseconds());
        if (commitment.EndedAt is { } ended)
            w.Timestamp("EndedAt", ended.ToUnixTimeMilliseconds());
        if (commitment.EarliestAllowedEndAt is { } earliest)
            w.Timestamp("EarliestAllowedEndAt", earliest.ToUnixTimeMilliseconds());
        w.EndObject();
        w.EndObject();
    }
}
