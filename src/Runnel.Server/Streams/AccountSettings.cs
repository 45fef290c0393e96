using System.Text.Json;
using System.Text.Json.Serialization;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Streams;

public enum CommitmentStatus { Disabled, Enabled, EnabledUntilEarliestAllowedEnd }

/// <summary>
/// The account's minimum throughput billing commitment as DescribeAccountSettings shows it: its status and the
/// times it started, ended, and can end at the earliest.
/// </summary>
public sealed record BillingCommitment(CommitmentStatus Status, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt, DateTimeOffset? EarliestAllowedEndAt)
{
    public static readonly BillingCommitment Never = new(CommitmentStatus.Disabled, null, null, null);

    /// <summary>Enabled, or enabled until its scheduled end: what unlocks warm throughput and 50 consumers per stream.</summary>
    public bool InForce => Status != CommitmentStatus.Disabled;
}

/// <summary>
/// The account's settings (UpdateAccountSettings): the minimum throughput billing commitment, which lasts at least
/// <see cref="RunnelOptions.CommitmentPeriod"/> (AWS: 24 hours). Disabling it earlier schedules its end at the
/// earliest allowed time; enabling it again before then cancels that. Kept in the metadata store's settings
/// (docs/formats/metadata.md). Thread-safe.
/// </summary>
public sealed class AccountSettings
{
    public const string SettingName = "account-settings";

    /// <summary>Consumers per stream without the commitment, and with it (AWS's On-demand Advantage).</summary>
    public const int StandardConsumersPerStream = 20, CommittedConsumersPerStream = 50;

    private readonly IMetadataStore _metadata;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _period;
    private readonly Lock _lock = new();
    private readonly string _settingName;
    private BillingCommitment _commitment;

    /// <summary>The settings row of <paramref name="account"/>: <see cref="SettingName"/> for the server's own account (as
    /// always), <c>account-settings/{account}</c> for another (a key's <c>account_id</c>).</summary>
    public static string SettingNameOf(string account, string serverAccount) => account == serverAccount ? SettingName : SettingName + "/" + account;

    /// <summary>The account a settings row belongs to, or null when the row is not an account's settings.</summary>
    public static string? AccountOfSetting(string settingName, string serverAccount) =>
        settingName == SettingName ? serverAccount
        : settingName.StartsWith(SettingName + "/", StringComparison.Ordinal) ? settingName[(SettingName.Length + 1)..]
        : null;

    /// <param name="settingName">The row they are kept in (<see cref="SettingNameOf"/>).</param>
    public AccountSettings(IMetadataStore metadata, TimeProvider clock, TimeSpan period, Action<string>? warn = null, string settingName = SettingName)
    {
        _metadata = metadata;
        _clock = clock;
        _period = period;
        _settingName = settingName;
        _commitment = BillingCommitment.Never;
        if (metadata.ReadSetting(settingName) is { } stored)
        {
            if (Decode(stored) is { } commitment)
                _commitment = commitment;
            else
                // A billing flag, not data: the server starts without it rather than not at all.
                warn?.Invoke($"The account settings in {metadata.Location} (settings row '{settingName}') do not parse; the minimum throughput " +
                    "billing commitment starts DISABLED. Enable it again with UpdateAccountSettings if it was on.");
        }
    }

    /// <summary>The commitment as it is now (a scheduled end that has come is applied).</summary>
    public BillingCommitment Commitment
    {
        get
        {
            lock (_lock)
                return Resolved();
        }
    }

    /// <summary>How many consumers a stream may register.</summary>
    public int ConsumersPerStream => Commitment.InForce ? CommittedConsumersPerStream : StandardConsumersPerStream;

    /// <summary>UpdateAccountSettings: enables (or keeps, or cancels a scheduled end of) the commitment, or disables it (at once, or at its earliest end).</summary>
    public BillingCommitment Change(bool enable)
    {
        lock (_lock)
        {
            var current = Resolved();
            var now = _clock.GetUtcNow();
            var next = (enable, current.Status) switch
            {
                (true, CommitmentStatus.Disabled) => new BillingCommitment(CommitmentStatus.Enabled, now, null, now + _period),
                (true, _) => current with { Status = CommitmentStatus.Enabled },
                (false, CommitmentStatus.Enabled) when now < current.EarliestAllowedEndAt => current with { Status = CommitmentStatus.EnabledUntilEarliestAllowedEnd },
                (false, CommitmentStatus.Enabled) => current with { Status = CommitmentStatus.Disabled, EndedAt = now, EarliestAllowedEndAt = null },
                _ => current,
            };
            if (next != current)
                Store(next);
            return next;
        }
    }

    /// <summary>The setting as another node of a cluster wrote it (<see cref="IMetadataStore.Follow"/>).</summary>
    internal void Apply(byte[] stored)
    {
        if (Decode(stored) is not { } commitment)
            return;
        lock (_lock)
            _commitment = commitment;
    }

    private BillingCommitment Resolved()
    {
        if (_commitment is { Status: CommitmentStatus.EnabledUntilEarliestAllowedEnd, EarliestAllowedEndAt: { } end } && _clock.GetUtcNow() >= end)
            Store(_commitment with { Status = CommitmentStatus.Disabled, EndedAt = end, EarliestAllowedEndAt = null });
        return _commitment;
    }

    private void Store(BillingCommitment next)
    {
        _metadata.WriteSetting(_settingName, JsonSerializer.SerializeToUtf8Bytes(Stored.Of(next), StoredContext.Default.Stored));
        _commitment = next;
    }

    /// <summary>The stored commitment, or null when the row does not parse.</summary>
    private static BillingCommitment? Decode(byte[] stored)
    {
        try
        {
            var s = JsonSerializer.Deserialize(stored, StoredContext.Default.Stored);
            return s is null || !Enum.TryParse<CommitmentStatus>(s.Status, out var status) || !Enum.IsDefined(status)
                ? null
                : new BillingCommitment(status, Time(s.StartedMs), Time(s.EndedMs), Time(s.EarliestEndMs));
        }
        catch (Exception e) when (e is JsonException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static DateTimeOffset? Time(long? ms) => ms is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(v) : null;

    internal sealed record Stored(string Status, long? StartedMs, long? EndedMs, long? EarliestEndMs)
    {
        public static Stored Of(BillingCommitment c) =>
            new(c.Status.ToString(), c.StartedAt?.ToUnixTimeMilliseconds(), c.EndedAt?.ToUnixTimeMilliseconds(), c.EarliestAllowedEndAt?.ToUnixTimeMilliseconds());
    }
}

[JsonSerializable(typeof(AccountSettings.Stored))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class StoredContext : JsonSerializerContext;
