using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Runnel.Server;

/// <summary>
/// <c>GET /health</c>: 200 whenever the server answers requests, with <c>{"status":"ok"}</c>, or
/// <c>{"status":"degraded","reason":"disk full since ...: ... Free space ..."}</c> while the disk refuses writes
/// (reads keep working, writes resume by themselves; docs/reliability.md). Before every listener is bound
/// (the TLS port is bound after the plain one) it answers 503 <c>{"status":"starting"}</c>: 200 means ready.
/// </summary>
internal static class HealthEndpoint
{
    private static readonly byte[] Ok = """{"status":"ok"}"""u8.ToArray();
    private static readonly byte[] Starting = """{"status":"starting"}"""u8.ToArray();
    private static readonly JsonWriterOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpResponse response, StorageHealth health, bool started)
    {
        response.ContentType = "application/json";
        if (!started)
        {
            response.StatusCode = 503;
            await response.Body.WriteAsync(Starting);
            return;
        }
        if (health.Reason is not { } reason)
        {
            await response.Body.WriteAsync(Ok);
            return;
        }
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Readable))
        {
            json.WriteStartObject();
            json.WriteString("status", "degraded");
            json.WriteString("reason", reason);
            json.WriteEndObject();
        }
        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }
}
