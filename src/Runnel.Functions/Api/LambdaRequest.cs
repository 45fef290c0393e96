namespace Runnel.Functions.Api;

/// <summary>
/// One call of Lambda's REST API as the HTTP front read it: the method, the path after <c>/2015-03-31</c> split into
/// its (percent-decoded) segments, the query, the headers Lambda's operations read, and the body.
/// </summary>
public sealed record LambdaRequest(string Method, IReadOnlyList<string> Segments, IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, string> Headers, ReadOnlyMemory<byte> Body, string AccountId)
{
    public string? Header(string name) => Headers.TryGetValue(name, out string? value) ? value : null;
}

/// <summary>What an operation answers: the status, the headers Lambda sets, and the body (JSON, or an invocation's payload).</summary>
public sealed record LambdaAnswer(int StatusCode, ReadOnlyMemory<byte> Body, IReadOnlyDictionary<string, string> Headers)
{
    public static readonly IReadOnlyDictionary<string, string> NoHeaders = new Dictionary<string, string>();

    public static LambdaAnswer Json(int status, byte[] body) => new(status, body, NoHeaders);

    public static LambdaAnswer Empty(int status) => new(status, ReadOnlyMemory<byte>.Empty, NoHeaders);
}
