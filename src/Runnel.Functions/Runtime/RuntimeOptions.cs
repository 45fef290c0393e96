namespace Runnel.Functions.Runtime;

/// <summary>How functions' processes run (docs/compatibility.md, "Lambda"). Immutable.</summary>
public sealed record RuntimeOptions
{
    /// <summary>Where uploaded Zip code is unpacked (a directory of the node's own, under its data directory).</summary>
    public required string CodeDirectory { get; init; }

    /// <summary>
    /// Why this server runs no function code in processes (the Runtime API forms), or null when it does. A function's
    /// code is whatever its creator gave, run as the server's user: a server reachable beyond this machine without
    /// signatures checked would run anyone's commands.
    /// </summary>
    public string? ProcessesRefused { get; init; }

    /// <summary>The most processes one function runs at once; more invocations wait for one to be free.</summary>
    public int MaxConcurrency { get; init; } = 10;

    /// <summary>How long a process may take to ask for its first invocation (Lambda's init phase: 10 s).</summary>
    public TimeSpan InitTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a process waits for work before it is stopped.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The largest answer a function gives (Lambda's 6 MB for a synchronous invocation).</summary>
    public int MaxResponseBytes { get; init; } = 6 * 1024 * 1024;

    /// <summary>Runnel's own URL once it listens, given to functions as <c>AWS_ENDPOINT_URL</c> so that their SDKs call Runnel; null: not set.</summary>
    public Func<string?>? EndpointUrl { get; init; }

    /// <summary>The directory of npm's <c>aws-lambda-ric</c> (with <c>index.mjs</c>) for <c>nodejs</c> runtimes; null: not installed.</summary>
    public string? NodeRuntimeClient { get; init; }
}
