using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Runnel.Server.Tests;

/// <summary>A plain-HTTP webhook on 127.0.0.1 (a free port) that keeps what is posted to it and answers <see cref="Status"/>.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app)
    {
        _app = app;
        Url = app.Urls.First().TrimEnd('/');
    }

    /// <summary>http://127.0.0.1:PORT.</summary>
    public string Url { get; }

    /// <summary>What was posted: the path, the headers (name, value) and the body.</summary>
    public ConcurrentQueue<(string Path, IReadOnlyDictionary<string, string> Headers, string Body)> Received { get; } = new();

    public volatile int Status = 200;

    /// <summary>How long each post waits, once kept, before it is answered.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>The body answered for a posted body; null: none.</summary>
    public Func<string, string>? Answer { get; set; }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            string body = await reader.ReadToEndAsync();
            receiver!.Received.Enqueue((context.Request.Path.Value ?? "", context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));
            if (receiver.Delay > TimeSpan.Zero)
                await Task.Delay(receiver.Delay);
            context.Response.StatusCode = receiver.Status;
            if (receiver.Answer is { } answer)
                await context.Response.WriteAsync(answer(body));
        });
        await app.StartAsync();
        receiver = new WebhookReceiver(app);
        return receiver;
    }

    /// <summary>Waits (up to 20 s) until <paramref name="count"/> posts arrived.</summary>
    public async Task WaitForAsync(int count)
    {
        for (int i = 0; i < 400 && Received.Count < count; i++)
            await Task.Delay(50);
        Assert.True(Received.Count >= count, $"the webhook got {Received.Count} posts, not {count}");
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
