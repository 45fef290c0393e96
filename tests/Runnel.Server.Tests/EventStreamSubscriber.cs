using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Runnel.Protocol.EventStream;

namespace Runnel.Server.Tests;

/// <summary>
/// A SubscribeToShard call read the way an SDK reads it: the response's event-stream messages parsed as they
/// arrive (over HTTP/2 prior knowledge or HTTP/1.1) and queued for the test. Disposing cancels the call.
/// </summary>
public sealed class EventStreamSubscriber : IAsyncDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly Channel<EventStreamMessage> _messages = Channel.CreateUnbounded<EventStreamMessage>();
    private HttpResponseMessage? _response;
    private Task? _reader;

    public HttpStatusCode Status { get; private set; }

    public string? ContentType { get; private set; }

    /// <summary>The error body when the call was refused before streaming.</summary>
    public JsonElement Error { get; private set; }

    /// <summary>True once the server ended the response.</summary>
    public bool Ended => _reader?.IsCompleted == true;

    public static async Task<EventStreamSubscriber> StartAsync(HttpClient http, string consumerArn, string shardId, string startingPosition, Version? version = null)
    {
        var subscriber = new EventStreamSubscriber();
        var request = TestClient.Request("SubscribeToShard", $$"""{"ConsumerARN":"{{consumerArn}}","ShardId":"{{shardId}}","StartingPosition":{{startingPosition}}}""");
        request.Version = version ?? HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        subscriber._response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, subscriber._cancel.Token);
        subscriber.Status = subscriber._response.StatusCode;
        subscriber.ContentType = subscriber._response.Content.Headers.ContentType?.MediaType;
        if (subscriber.Status != HttpStatusCode.OK)
        {
            subscriber.Error = JsonDocument.Parse(await subscriber._response.Content.ReadAsStringAsync()).RootElement.Clone();
            return subscriber;
        }
        var body = await subscriber._response.Content.ReadAsStreamAsync();
        subscriber._reader = Task.Run(() => subscriber.ReadAsync(body));
        return subscriber;
    }

    private async Task ReadAsync(Stream body)
    {
        var buffer = new byte[1 << 16];
        int filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                    Array.Resize(ref buffer, buffer.Length * 2);
                int n = await body.ReadAsync(buffer.AsMemory(filled), _cancel.Token);
                if (n == 0)
                    break;
                filled += n;
                int start = 0;
                while (EventStreamCodec.TryRead(buffer.AsSpan(start, filled - start), out var message, out int consumed))
                {
                    await _messages.Writer.WriteAsync(message!);
                    start += consumed;
                }
                buffer.AsSpan(start, filled - start).CopyTo(buffer);
                filled -= start;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }

    /// <summary>The next message, or null when the stream ended; fails the test after <paramref name="timeout"/>.</summary>
    public async Task<EventStreamMessage?> NextAsync(TimeSpan? timeout = null)
    {
        using var wait = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        try
        {
            return await _messages.Reader.WaitToReadAsync(wait.Token) && _messages.Reader.TryRead(out var m) ? m : null;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("No event-stream message arrived in time.");
        }
    }

    /// <summary>The next SubscribeToShardEvent's payload (skipping nothing: any other message fails the test).</summary>
    public async Task<JsonElement> NextEventAsync(TimeSpan? timeout = null)
    {
        var message = await NextAsync(timeout) ?? throw new InvalidOperationException("The stream ended.");
        Assert.Equal("event", message.Header(":message-type"));
        Assert.Equal("SubscribeToShardEvent", message.Header(":event-type"));
        return JsonDocument.Parse(message.Payload).RootElement.Clone();
    }

    /// <summary>Reads events until the one that ends a closed shard (it carries ChildShards) and returns it.</summary>
    public async Task<JsonElement> ShardEndEventAsync()
    {
        while (true)
        {
            var e = await NextEventAsync();
            if (e.TryGetProperty("ChildShards", out _))
                return e;
        }
    }

    /// <summary>Reads events until <paramref name="count"/> records came; returns their data as text, in order.</summary>
    public async Task<(List<string> Data, JsonElement LastEvent)> RecordsAsync(int count, TimeSpan? timeout = null)
    {
        var data = new List<string>();
        JsonElement last = default;
        while (data.Count < count)
        {
            last = await NextEventAsync(timeout);
            foreach (var record in last.GetProperty("Records").EnumerateArray())
                data.Add(Encoding.UTF8.GetString(record.GetProperty("Data").GetBytesFromBase64()));
        }
        return (data, last);
    }

    public async ValueTask DisposeAsync()
    {
        _cancel.Cancel();
        if (_reader is not null)
            await _reader;
        _response?.Dispose();
        _cancel.Dispose();
    }
}
