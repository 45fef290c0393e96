using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;
using Runnel.Core.Model;
using Runnel.Protocol;
using Runnel.Protocol.Cbor;
using Runnel.Protocol.EventStream;
using Runnel.Protocol.Json;
using Runnel.Server.Streams;

namespace Runnel.Server.Kinesis;

/// <summary>
/// Writes a subscription as AWS does: HTTP 200 with <c>application/vnd.amazon.eventstream</c>, the
/// <c>initial-response</c> event at once, then one <c>SubscribeToShardEvent</c> per <see cref="SubscriptionEvent"/>,
/// and an exception event when the subscription ends for a reason the client must hear of (taken over, stream
/// or consumer gone, a failure). Payloads are in the request's encoding: JSON, or CBOR for a CBOR request (the
/// Java SDK's default). Each message is flushed before the next is read: on HTTP/2 the flush waits for the
/// client's flow-control window, so a client that stops reading holds the subscription where it is, not the
/// server's memory. Docs: docs/formats/eventstream.md.
/// </summary>
internal static class SubscriptionResponse
{
    private static readonly EventStreamHeader EventMessage = EventStreamHeader.String(":message-type", "event");
    private static readonly EventStreamHeader ExceptionMessage = EventStreamHeader.String(":message-type", "exception");
    private static readonly EventStreamHeader InitialResponse = EventStreamHeader.String(":event-type", "initial-response");
    private static readonly EventStreamHeader RecordsEvent = EventStreamHeader.String(":event-type", "SubscribeToShardEvent");
    private static readonly EventStreamHeader JsonContent = EventStreamHeader.String(":content-type", "application/json");
    private static readonly EventStreamHeader CborContent = EventStreamHeader.String(":content-type", CborWireWriter.MediaType);

    public static async Task StreamAsync(HttpContext context, ShardSubscription subscription, bool cbor, ILogger log)
    {
        var http = context.Response;
        http.StatusCode = 200;
        http.ContentType = EventStreamCodec.MediaType;
        // A slow subscriber is held by flow control, not cut off by Kestrel's minimum data rate: it costs one event.
        if (context.Features.Get<IHttpMinResponseDataRateFeature>() is { } rate)
            rate.MinDataRate = null;
        var content = cbor ? CborContent : JsonContent;
        var body = http.BodyWriter;
        var cancel = context.RequestAborted;
        try
        {
            // One writer for the whole subscription, reset for each event: no allocation per event but the read.
            using var w = Writer(cbor);
            w.StartObject();
            w.EndObject();
            EventStreamCodec.Write(body, [EventMessage, InitialResponse, content], w.Complete().Span);
            await body.FlushAsync(cancel); // the JavaScript SDK's send() resolves on this event
            await foreach (var e in subscription.EventsAsync(cancel))
            {
                using (e)
                {
                    w.Reset();
                    WriteEvent(w, e);
                    EventStreamCodec.Write(body, [EventMessage, RecordsEvent, content], w.Complete().Span);
                }
                var flushed = await body.FlushAsync(cancel);
                if (flushed.IsCanceled || flushed.IsCompleted)
                    return; // the client went away
            }
            switch (subscription.EndReason)
            {
                case SubscriptionEnd.TakenOver:
                    await WriteExceptionAsync(body, cbor, "ResourceInUseException",
                        $"Another subscription to shard {subscription.ShardId} was started by the same consumer; this one has ended.", cancel);
                    break;
                case SubscriptionEnd.StreamDeleted:
                    await WriteExceptionAsync(body, cbor, "ResourceNotFoundException", "The stream was deleted; the subscription has ended.", cancel);
                    break;
                case SubscriptionEnd.ConsumerDeregistered:
                    await WriteExceptionAsync(body, cbor, "ResourceNotFoundException", "The consumer was deregistered; the subscription has ended.", cancel);
                    break;
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The client closed the stream.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Never a broken connection without a word: the client hears of the failure as an exception event.
            log.LogError(e, "SubscribeToShard on {Shard} failed; sent InternalFailure to the subscriber.", subscription.ShardId);
            subscription.Failed();
            try
            {
                await WriteExceptionAsync(body, cbor, "InternalFailureException", "Internal service failure.", cancel);
            }
            catch (Exception) when (cancel.IsCancellationRequested)
            {
            }
        }
    }

    private static IWireWriter Writer(bool cbor) => cbor ? new CborWireWriter() : new JsonWireWriter(4096);

    /// <summary>A SubscribeToShardEvent: Records, ContinuationSequenceNumber (absent at a closed shard's end), MillisBehindLatest, ChildShards.</summary>
    private static void WriteEvent(IWireWriter w, SubscriptionEvent e)
    {
        w.StartObject();
        w.StartArray("Records");
        if (e.Records is not null && e.Count > 0)
            WireRecords.Write(w, e.Records, e.Records.Records[e.Count - 1].Offset + 1, e.Shard);
        w.EndArray();
        if (e.Continuation is { } continuation)
            w.String("ContinuationSequenceNumber", continuation.ToString());
        w.Number("MillisBehindLatest", e.MillisBehindLatest);
        if (e.ChildShards is { } children)
            WireRecords.ChildShards(w, children);
        w.EndObject();
    }

    private static async Task WriteExceptionAsync(PipeWriter body, bool cbor, string type, string message, CancellationToken cancel)
    {
        using (var w = Writer(cbor))
        {
            w.StartObject();
            w.String("message", message);
            w.EndObject();
            EventStreamCodec.Write(body, [ExceptionMessage, EventStreamHeader.String(":exception-type", type), cbor ? CborContent : JsonContent], w.Complete().Span);
        }
        await body.FlushAsync(cancel);
    }
}
