using Runnel.Client.Credentials;

namespace Runnel.Client;

/// <summary>
/// What <see cref="KinesisClient"/> and <see cref="DynamoDbClient"/> share: where to send, the region and credentials
/// to sign with, HTTP versions, timeouts and retries. Every setting has a default; an empty options object talks to
/// AWS in the region and with the credentials of the standard AWS chain.
/// </summary>
public abstract class AwsClientOptions
{
    /// <summary>The service's URL, such as <c>http://localhost:4567</c> for Runnel; default AWS's endpoint for the region.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>
    /// The region requests are signed for. Default: <c>AWS_REGION</c>, then <c>AWS_DEFAULT_REGION</c>, then the profile's
    /// <c>region</c> in the shared config file; with none of them and an <see cref="Endpoint"/> given, <c>us-east-1</c>.
    /// </summary>
    public string? Region { get; init; }

    /// <summary>The credentials to sign with. Default <see cref="DefaultCredentialsChain"/> (environment, then the shared files).</summary>
    public IAwsCredentialsProvider? Credentials { get; init; }

    /// <summary>The profile of the shared files used for the default region and credentials; default <c>AWS_PROFILE</c>, else <c>default</c>.</summary>
    public string? Profile { get; init; }

    /// <summary>
    /// Whether to speak HTTP/2 (default true): negotiated over TLS (falling back to HTTP/1.1 when the server offers no
    /// HTTP/2), with prior knowledge (h2c) on an <c>http://</c> endpoint. False keeps every request on HTTP/1.1.
    /// </summary>
    public bool UseHttp2 { get; init; } = true;

    /// <summary>The time one attempt may take, from sending to the answer read (for SubscribeToShard, to the answer's headers). Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The time a new connection may take to be established. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How failed calls are retried.</summary>
    public RetryOptions Retry { get; init; } = new();

    /// <summary>The clock that dates signatures and times backoffs. Default the system's.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// An HTTP handler of the caller's own (proxies, certificates, test doubles); the client does not dispose it. Default
    /// a <see cref="System.Net.Http.SocketsHttpHandler"/> of the client's own. <see cref="ConnectTimeout"/> applies to the client's own handler only.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Reads environment variables; tests replace it so that they need not change the process's environment.</summary>
    internal Func<string, string?> Environment { get; init; } = System.Environment.GetEnvironmentVariable;
}

/// <summary>Settings of a <see cref="KinesisClient"/>.</summary>
public sealed class KinesisClientOptions : AwsClientOptions
{
    /// <summary>The encoding of requests and answers. Default <see cref="KinesisProtocol.Json11"/>.</summary>
    public KinesisProtocol Protocol { get; init; } = KinesisProtocol.Json11;
}

/// <summary>Settings of a <see cref="DynamoDbClient"/>.</summary>
public sealed class DynamoDbClientOptions : AwsClientOptions
{
}
