using System.Text;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Runnel.Storage.JetStream;

/// <summary>
/// Compare-and-set on one key of a JetStream key-value bucket that holds with changes in flight: the condition
/// is the bucket's stream as a whole (<c>Nats-Expected-Last-Sequence</c>), and the key is read from the stream's
/// leader after that sequence was read. nats-server 2.9 checks a key's own expected revision against stored
/// messages only, so two updates of one key in flight at once can both pass it (measured: eight threads counting
/// through the KV API got duplicate values); the stream-wide check counts what is in flight. Thread-safe.
/// </summary>
internal sealed class KeyValueCas(INatsJSContext js, string bucket)
{
    /// <summary>JetStream's error for a publish whose expected last sequence is not the stream's.</summary>
    private const int WrongLastSequence = 10071;

    private const int MaxAttempts = 1000;

    private readonly string _streamName = "KV_" + bucket;

    public string Bucket => bucket;

    /// <summary>
    /// Changes <paramref name="key"/> only if nothing else changed the bucket meanwhile, and returns its value after:
    /// <paramref name="decide"/> sees the current value (null when absent) and gives the new one, or null to leave
    /// it as it is (then the current value is returned, null when absent).
    /// </summary>
    public async Task<byte[]?> ChangeAsync(string key, Func<byte[]?, byte[]?> decide, CancellationToken cancellationToken = default)
    {
        string subject = $"$KV.{bucket}.{key}";
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (attempt > 2)
                await Task.Delay(Random.Shared.Next(0, Math.Min(attempt, 10)), cancellationToken).ConfigureAwait(false); // others are writing too
            var stream = await js.GetStreamAsync(_streamName, cancellationToken: cancellationToken).ConfigureAwait(false);
            ulong last = stream.Info.State.LastSeq;
            byte[]? current = await ReadAsync(stream, key, cancellationToken).ConfigureAwait(false);
            byte[]? next = decide(current);
            if (next is null)
                return current;
            var result = await js.TryPublishAsync(subject, next, opts: new NatsJSPubOpts { ExpectedLastSequence = last }, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!result.Success)
                throw new IOException($"JetStream did not store {key} in bucket {bucket}: {result.Error.Message}", result.Error);
            if (result.Value.Error is null)
                return next;
            if (result.Value.Error.ErrCode != WrongLastSequence)
                throw new IOException($"JetStream refused {key} in bucket {bucket}: {result.Value.Error.Description} ({result.Value.Error.ErrCode}).");
        }
        throw new IOException($"{key} in bucket {bucket} kept changing under {MaxAttempts} attempts to change it.");
    }

    /// <summary>A key's value as the stream's leader has it (not a replica that may be behind); null when absent or
    /// deleted. Through the stream handle the change already fetched: one stream-info request per attempt, not two.</summary>
    private async Task<byte[]?> ReadAsync(INatsJSStream stream, string key, CancellationToken cancellationToken)
    {
        try
        {
            var message = (await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = $"$KV.{bucket}.{key}" }, cancellationToken).ConfigureAwait(false)).Message;
            bool deleted = message.Hdrs is { } headers && Encoding.ASCII.GetString(Convert.FromBase64String(headers)).Contains("KV-Operation", StringComparison.Ordinal);
            return deleted ? null : message.Data.ToArray();
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return null;
        }
    }
}
