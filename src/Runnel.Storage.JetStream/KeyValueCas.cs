using System.Text;
using NATS.Client.Core;
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
            var (last, current, _) = await ReadWithSequenceAsync(key, cancellationToken).ConfigureAwait(false);
            byte[]? next = decide(current);
            if (next is null)
                return current;
            var ack = await PublishOnceAsync(subject, next, last, cancellationToken).ConfigureAwait(false);
            if (ack.Error is null)
                return next;
            if (ack.Error.ErrCode != WrongLastSequence)
                throw new IOException($"JetStream refused {key} in bucket {bucket}: {ack.Error.Description} ({ack.Error.ErrCode}).");
        }
        throw new IOException($"{key} in bucket {bucket} kept changing under {MaxAttempts} attempts to change it.");
    }

    /// <summary>
    /// Writes <paramref name="value"/> to <paramref name="key"/> only if the key is still at
    /// <paramref name="expectedRevision"/> (0: absent). Returns the new revision, or, when the key moved on, 0 with
    /// the key's value and revision now (a null value when it is absent or deleted).
    /// </summary>
    public async Task<(ulong Written, byte[]? Current, ulong CurrentRevision)> WriteIfAsync(string key, ulong expectedRevision, byte[] value, CancellationToken cancellationToken = default)
    {
        string subject = $"$KV.{bucket}.{key}";
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (attempt > 2)
                await Task.Delay(Random.Shared.Next(0, Math.Min(attempt, 10)), cancellationToken).ConfigureAwait(false);
            var (last, current, revision) = await ReadWithSequenceAsync(key, cancellationToken).ConfigureAwait(false);
            if (revision != expectedRevision && !(current is null && expectedRevision == 0))
                return (0, current, revision);
            var ack = await PublishOnceAsync(subject, value, last, cancellationToken).ConfigureAwait(false);
            if (ack.Error is null)
                return (ack.Seq, value, ack.Seq);
            if (ack.Error.ErrCode != WrongLastSequence)
                throw new IOException($"JetStream refused {key} in bucket {bucket}: {ack.Error.Description} ({ack.Error.ErrCode}).");
        }
        throw new IOException($"{key} in bucket {bucket} kept changing under {MaxAttempts} attempts to change it.");
    }

    /// <summary>
    /// Purges <paramref name="key"/> only if it is still at <paramref name="expectedRevision"/> (0: absent, and then
    /// nothing is published). Returns whether it was purged (or already absent as expected); when the key moved on,
    /// false with its value and revision now (a null value when it is absent or deleted).
    /// </summary>
    public async Task<(bool Purged, byte[]? Current, ulong CurrentRevision)> PurgeIfAsync(string key, ulong expectedRevision, CancellationToken cancellationToken = default)
    {
        string subject = $"$KV.{bucket}.{key}";
        var headers = new NatsHeaders { ["KV-Operation"] = "PURGE", ["Nats-Rollup"] = "sub" };
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (attempt > 2)
                await Task.Delay(Random.Shared.Next(0, Math.Min(attempt, 10)), cancellationToken).ConfigureAwait(false);
            var (last, current, revision) = await ReadWithSequenceAsync(key, cancellationToken).ConfigureAwait(false);
            if (current is null && expectedRevision == 0)
                return (true, null, revision);
            if (current is null || revision != expectedRevision)
                return (false, current, revision);
            var ack = await PublishOnceAsync(subject, [], last, cancellationToken, headers).ConfigureAwait(false);
            if (ack.Error is null)
                return (true, null, ack.Seq);
            if (ack.Error.ErrCode != WrongLastSequence)
                throw new IOException($"JetStream refused the purge of {key} in bucket {bucket}: {ack.Error.Description} ({ack.Error.ErrCode}).");
        }
        throw new IOException($"{key} in bucket {bucket} kept changing under {MaxAttempts} attempts to purge it.");
    }

    /// <summary>A key's value as the bucket's leader has it now (not a replica that may be behind); null when absent or deleted.</summary>
    public async Task<byte[]?> ReadAsync(string key, CancellationToken cancellationToken = default) =>
        (await ReadWithSequenceAsync(key, cancellationToken).ConfigureAwait(false)).Current;

    /// <summary>The bucket's last sequence, then the key's value as of at least that sequence. Requests that get no
    /// answer (a leader being elected, a loaded machine) are asked again for about <see cref="Unanswered.Budget"/>.</summary>
    private async Task<(ulong Last, byte[]? Current, ulong Revision)> ReadWithSequenceAsync(string key, CancellationToken cancellationToken)
    {
        return await Unanswered.RetryAsync(async () =>
        {
            var stream = await js.GetStreamAsync(_streamName, cancellationToken: cancellationToken).ConfigureAwait(false);
            var (current, revision) = await ReadAsync(stream, key, cancellationToken).ConfigureAwait(false);
            return (stream.Info.State.LastSeq, current, revision);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes <paramref name="value"/> on the condition that the bucket's last sequence is <paramref name="last"/>,
    /// sending it again with the same message id when no answer came: one that was stored but whose answer was lost
    /// is answered as a duplicate, never stored twice.
    /// </summary>
    private async Task<PubAckResponse> PublishOnceAsync(string subject, byte[] value, ulong last, CancellationToken cancellationToken, NatsHeaders? headers = null)
    {
        var options = new NatsJSPubOpts { ExpectedLastSequence = last, MsgId = Guid.NewGuid().ToString("N") };
        var deadline = DateTime.UtcNow + Unanswered.Budget;
        while (true)
        {
            var result = await js.TryPublishAsync(subject, value, opts: options, headers: headers, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (result.Success)
                return result.Value;
            if (DateTime.UtcNow >= deadline || cancellationToken.IsCancellationRequested)
                throw new IOException($"JetStream did not store {subject} in bucket {bucket}: {result.Error.Message}", result.Error);
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }


    /// <summary>A key's value as the stream's leader has it (not a replica that may be behind); null when absent or
    /// deleted. Through the stream handle the change already fetched: one stream-info request per attempt, not two.</summary>
    private async Task<(byte[]? Value, ulong Revision)> ReadAsync(INatsJSStream stream, string key, CancellationToken cancellationToken)
    {
        try
        {
            var message = (await stream.GetAsync(new StreamMsgGetRequest { LastBySubj = $"$KV.{bucket}.{key}" }, cancellationToken).ConfigureAwait(false)).Message;
            bool deleted = message.Hdrs is { } headers && Encoding.ASCII.GetString(Convert.FromBase64String(headers)).Contains("KV-Operation", StringComparison.Ordinal);
            return (deleted ? null : message.Data.ToArray(), message.Seq);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            return (null, 0);
        }
    }
}
