using System.Net;
using Runnel.Client.Internal.EventStream;
using Runnel.Client.Internal.Http;
using Runnel.Client.Internal.Kinesis;
using Runnel.Client.Internal.Wire;
using Runnel.Client.Models;

namespace Runnel.Client;

/// <summary>
/// A live SubscribeToShard subscription (from <see cref="KinesisClient.SubscribeToShardAsync"/>): enumerate it for its
/// events, read from the answer's event stream as the service pushes them, until the service ends the subscription (after
/// its lifetime of 5 minutes, or at a closed shard's end, when the enumeration simply ends). An exception event of the
/// service (such as <c>ResourceInUseException</c> when another subscription took over, or <c>ResourceNotFoundException</c>
/// when the consumer or stream went) or a broken connection is thrown as a <see cref="KinesisException"/>; the caller
/// subscribes again after the last <see cref="SubscribeToShardEvent.ContinuationSequenceNumber"/>. Enumerate it once;
/// dispose it to end it early. Not thread-safe.
/// </summary>
public sealed class ShardSubscription : IAsyncEnumerable<SubscribeToShardEvent>, IAsyncDisposable, IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly Stream _body;
    private readonly EventStreamReader _reader;
    private readonly KinesisProtocol _protocol;
    private bool _enumerated;

    internal ShardSubscription(HttpResponseMessage response, Stream body, KinesisProtocol protocol)
    {
        _response = response;
        _body = body;
        _reader = new EventStreamReader(body);
        _protocol = protocol;
        RequestId = ServiceErrors.RequestId(response);
    }

    /// <summary>The service's request id of the subscription.</summary>
    public string? RequestId { get; }

    /// <summary>The HTTP version the subscription is carried on.</summary>
    public Version HttpVersion => _response.Version;

    /// <summary>Waits for the service's first message, <c>initial-response</c>, which says it accepted the subscription.</summary>
    internal async Task ReadInitialResponseAsync(CancellationToken cancellationToken)
    {
        var first = await ReadAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new KinesisException("RequestFailed", "The subscription's event stream ended before its initial response.", HttpStatusCode.OK, RequestId, isRetryable: true);
        Throw(first);
        if (first.Header(":event-type") != "initial-response")
            throw new KinesisException("MalformedAnswer", $"The subscription began with '{first.Header(":event-type")}', not its initial response.", HttpStatusCode.OK, RequestId, isRetryable: false);
    }

    /// <summary>The subscription's events, in order, as they come.</summary>
    public async IAsyncEnumerator<SubscribeToShardEvent> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (_enumerated)
            throw new InvalidOperationException("A subscription's events can be enumerated once.");
        _enumerated = true;
        while (await ReadAsync(cancellationToken).ConfigureAwait(false) is { } message)
        {
            Throw(message);
            if (message.Header(":message-type") == "event" && message.Header(":event-type") == "SubscribeToShardEvent")
                yield return KinesisAnswers.SubscribeToShardEvent(Parse(message));
            // Other event types (a newer service's) carry nothing this client knows: skipped.
        }
    }

    private async Task<EventStreamMessage?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or EventStreamFormatException)
        {
            throw new KinesisException("RequestFailed", $"The subscription's event stream broke: {e.Message}", HttpStatusCode.OK, RequestId, isRetryable: true, e);
        }
    }

    /// <summary>Throws the error an <c>exception</c> or <c>error</c> message carries.</summary>
    private void Throw(EventStreamMessage message)
    {
        switch (message.Header(":message-type"))
        {
            case "exception":
                string code = message.Header(":exception-type") ?? "UnknownException";
                WireNode? payload = null;
                try
                {
                    payload = Parse(message);
                }
                catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or System.Formats.Cbor.CborContentException or InvalidOperationException)
                {
                    // No readable message: the code says it.
                }
                string text = payload?.String("message") ?? payload?.String("Message") ?? code;
                throw new KinesisException(code, text, HttpStatusCode.OK, RequestId, RetryPolicy.IsRetryable(code, HttpStatusCode.OK));
            case "error":
                string errorCode = message.Header(":error-code") ?? "UnknownError";
                throw new KinesisException(errorCode, message.Header(":error-message") ?? errorCode, HttpStatusCode.OK, RequestId, RetryPolicy.IsRetryable(errorCode, HttpStatusCode.OK));
        }
    }

    private WireNode Parse(EventStreamMessage message) => KinesisClient.Parse(message.Payload, message.Header(":content-type") is "application/json" ? JsonRequestWriter.Json11 : message.Header(":content-type"), _protocol);

    /// <summary>Ends the subscription: closes its stream.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Ends the subscription: closes its stream.</summary>
    public void Dispose()
    {
        _body.Dispose();
        _response.Dispose();
    }
}
