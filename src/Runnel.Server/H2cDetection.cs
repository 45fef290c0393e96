using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Runnel.Server;

/// <summary>
/// Serves HTTP/1.1 and cleartext HTTP/2 with prior knowledge (h2c, what the AWS SDK for JavaScript v3
/// speaks by default) on one port. Kestrel picks HTTP/2 on a cleartext Http1AndHttp2 endpoint only when
/// ALPN says "h2", so this connection middleware peeks at the first bytes without consuming them and,
/// when they are the HTTP/2 connection preface, tells Kestrel "h2" as ALPN would have.
/// </summary>
internal static class H2cDetection
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    /// <summary>
    /// Waits for enough of the client's first bytes to tell HTTP/2 prior knowledge from HTTP/1.1 and marks
    /// the connection accordingly, consuming nothing. Calls <paramref name="firstBytes"/> once the client has
    /// said anything. False when the client went away, or <paramref name="cancel"/> fired, before it was clear.
    /// </summary>
    public static async Task<bool> DetectAsync(ConnectionContext connection, Action firstBytes, CancellationToken cancel)
    {
        var input = connection.Transport.Input;
        bool spoke = false;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(cancel);
            }
            catch (Exception e) when (e is OperationCanceledException or ConnectionResetException or IOException)
            {
                return false; // the client went away, or never said enough in time
            }
            var buffer = result.Buffer;
            if (!spoke && !buffer.IsEmpty)
            {
                spoke = true;
                firstBytes();
            }
            int compare = (int)Math.Min(buffer.Length, Preface.Length);
            bool prefixMatches = buffer.Slice(0, compare).ToArray().AsSpan().SequenceEqual(Preface.AsSpan(0, compare));
            if (!prefixMatches || buffer.Length >= Preface.Length || result.IsCompleted)
            {
                input.AdvanceTo(buffer.Start, buffer.Start);
                if (prefixMatches && buffer.Length >= Preface.Length)
                {
                    var prior = new PriorKnowledge();
                    connection.Features.Set<ITlsApplicationProtocolFeature>(prior);
                    connection.Features.Set<ITlsConnectionFeature>(prior);
                }
                return true;
            }
            input.AdvanceTo(buffer.Start, buffer.End); // need more bytes to decide
        }
    }

    /// <summary>The features Kestrel consults when choosing the protocol; no TLS is involved.</summary>
    private sealed class PriorKnowledge : ITlsApplicationProtocolFeature, ITlsConnectionFeature
    {
        public ReadOnlyMemory<byte> ApplicationProtocol => "h2"u8.ToArray();

        public X509Certificate2? ClientCertificate { get; set; }

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}
