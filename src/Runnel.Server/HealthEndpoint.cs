using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Runnel.Server.Storage;

namespace Runnel.Server;

/// <summary>
/// <c>GET /health</c>: 200 whenever the server answers requests, with <c>{"status":"ok"}</c>, or
/// <c>{"status":"degraded","reason":"disk full since ...: ... Free space ..."}</c> while the disk refuses writes
/// (reads keep working, writes resume by themselves; docs/reliability.md). Before every listener is bound
/// (the TLS port is bound after the plain one) it answers 503 <c>{"status":"starting"}</c>: 200 means ready.
/// A cluster node adds its name and whether it is the elected node: <c>{"status":"ok","node":"…","elected":true}</c>.
/// </summary>
internal static class HealthEndpoint
{
    private static readonly byte[] Ok = """{"status":"ok"}"""u8.ToArray();
    private static readonly byte[] Starting = """{"status":"starting"}"""u8.ToArray();
    private static readonly JsonWriterOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpResponse response, StorageHealth health, ServerStorage storage, bool started)
    {
        response.ContentType = "application/json";
        if (!started)
        {
            response.StatusCode = 503;
            await response.Body.WriteAsync(Starting);
            return;
        }
        string? reason = health.Reason;
        if (reason is null && storage.ClusterNode is null)
        {
            await response.Body.WriteAsync(Ok);
            return;
        }
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Readable))
        {
            json.WriteStartObject();
            json.WriteString("status", reason is null ? "ok" : "degraded");
            if (reason is not null)
                json.WriteString("reason", reason);
            if (storage.ClusterNode is { } node)
            {
                json.WriteString("node", node);
                json.WriteBoolean("elected", storage.Leads);
            }
            json.WriteEndObject();
        }
        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }
}
