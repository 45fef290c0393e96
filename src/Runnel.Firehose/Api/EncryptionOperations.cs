using Runnel.Firehose.Catalog;

namespace Runnel.Firehose.Api;

/// <summary>
/// StartDeliveryStreamEncryption and StopDeliveryStreamEncryption, and the encryption asked for on create: DirectPut
/// streams only, at most 25 changes a day, the status ENABLED or DISABLED at once (AWS passes through ENABLING and
/// DISABLING for a few seconds). While it is ENABLED the records buffered in the stream's log are sealed at rest under a
/// data key issued for the KMS key (the key ARN, or AWS_OWNED_CMK), as a Kinesis stream's are (docs/security.md).
/// </summary>
internal static class EncryptionOperations
{
    public const int MaxChangesPerDay = 25;
    private const string AwsOwned = "AWS_OWNED_CMK", CustomerManaged = "CUSTOMER_MANAGED_CMK";

    /// <summary>The encryption a create asks for (DeliveryStreamEncryptionConfigurationInput), or DISABLED for a DirectPut stream without one.</summary>
    public static DeliveryEncryption? Requested(FirehoseRequest r, string type)
    {
        var input = r.Structure("DeliveryStreamEncryptionConfigurationInput");
        if (type != DeliveryStreamType.DirectPut)
        {
            if (input is not null)
                throw FirehoseErrors.InvalidArgument($"Server-side encryption is not permitted on {type} delivery stream type.");
            return null;
        }
        return input is null ? new DeliveryEncryption(DeliveryStreamStatus.Disabled, null, null)
            : Enabled((string?)input["KeyType"], (string?)input["KeyARN"]);
    }

    private static DeliveryEncryption Enabled(string? keyType, string? keyArn)
    {
        keyType ??= AwsOwned;
        if (keyType == CustomerManaged && keyArn is null)
            throw FirehoseErrors.InvalidArgument("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.");
        if (keyType == AwsOwned && keyArn is not null)
            throw FirehoseErrors.InvalidArgument("KeyARN must not be specified when KeyType is AWS_OWNED_CMK.");
        return new DeliveryEncryption(DeliveryStreamStatus.Enabled, keyType, keyArn);
    }

    public static ValueTask Start(FirehoseRequest r)
    {
        var input = r.Structure("DeliveryStreamEncryptionConfigurationInput");
        var wanted = Enabled((string?)input?["KeyType"], (string?)input?["KeyARN"]);
        Change(r, _ => wanted);
        return ValueTask.CompletedTask;
    }

    public static ValueTask Stop(FirehoseRequest r)
    {
        Change(r, _ => new DeliveryEncryption(DeliveryStreamStatus.Disabled, null, null));
        return ValueTask.CompletedTask;
    }

    /// <summary>The data keys for <paramref name="encryption"/>: a key for its KMS key while ENABLED, none in use while DISABLED (old keys kept).</summary>
    public static Runnel.Core.Model.AtRestEncryption? AtRest(FirehoseService service, long? logId, Runnel.Core.Model.AtRestEncryption? current, DeliveryEncryption? encryption)
    {
        if (logId is not { } log || service.Keys is not { } keys)
            return current;
        if (encryption?.Status != DeliveryStreamStatus.Enabled)
            return current?.Stopped();
        return keys.Issue(log, current, encryption.KeyArn ?? encryption.KeyType ?? AwsOwned);
    }

    private static void Change(FirehoseRequest r, Func<DeliveryEncryption?, DeliveryEncryption> change)
    {
        var service = r.Service;
        var stream = r.Stream();
        if (stream.Type != DeliveryStreamType.DirectPut)
            throw FirehoseErrors.InvalidArgument($"This operation is not permitted on {stream.Type} delivery stream type.");
        long now = service.NowMillis;
        var updated = service.Catalog.Update(r.Name, s =>
        {
            if (s.Status != DeliveryStreamStatus.Active)
                throw FirehoseErrors.InUse($"Firehose {s.Name} under account {service.Options.AccountId} is not ACTIVE; it is {s.Status}.");
            var recent = s.EncryptionChanges.Where(t => t > now - 86_400_000).ToList();
            if (recent.Count >= MaxChangesPerDay)
                throw FirehoseErrors.LimitExceeded($"Firehose {s.Name} under account {service.Options.AccountId} has had its encryption started or stopped {MaxChangesPerDay} times in the last 24 hours, the most allowed.");
            var encryption = change(s.Encryption);
            return s with { Encryption = encryption, AtRest = AtRest(service, s.LogId, s.AtRest, encryption), EncryptionChanges = [.. recent, now] };
        });
        if (updated is null)
            throw FirehoseErrors.NotFound(r.Name, service.Options.AccountId);
        r.EmptyResponse = true;
    }
}
