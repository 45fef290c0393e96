using System.Text.Json;
using Runnel.Functions.Catalog;

namespace Runnel.Functions.Invoke;

/// <summary>What one invocation gave: the function's answer, or its error payload (<see cref="FunctionError"/> set).</summary>
public sealed record InvocationOutcome(byte[] Payload, string? FunctionError);

/// <summary>Runs one invocation of a function and gives its outcome; a function's failures are outcomes, not exceptions.</summary>
public interface IFunctionInvoker
{
    Task<InvocationOutcome> InvokeAsync(LambdaFunction function, string requestId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}

/// <summary>Lambda's error payloads (<c>{"errorType", "errorMessage"}</c>), as the invokers write them for failures of their own.</summary>
public static class InvocationErrors
{
    public static InvocationOutcome Outcome(string errorType, string message) => new(Payload(errorType, message), "Unhandled");

    public static byte[] Payload(string errorType, string message) =>
        Api.FunctionOperations.Write(json =>
        {
            json.WriteStartObject();
            json.WriteString("errorType", errorType);
            json.WriteString("errorMessage", message);
            json.WriteEndObject();
        });

    /// <summary>A function error payload's <c>errorType: errorMessage</c>, shortened, for the log.</summary>
    public static string Summary(byte[] payload)
    {
        string text;
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            text = root.ValueKind == JsonValueKind.Object
                ? $"{(root.TryGetProperty("errorType", out var type) ? type.ToString() : "error")}: {(root.TryGetProperty("errorMessage", out var message) ? message.ToString() : root.GetRawText())}"
                : root.GetRawText();
        }
        catch (JsonException)
        {
            text = System.Text.Encoding.UTF8.GetString(payload);
        }
        return text.Length <= 300 ? text : string.Concat(text.AsSpan(0, 300), "…");
    }

    public static InvocationOutcome TimedOut(string requestId, int seconds) =>
        Outcome("Sandbox.Timedout", $"RequestId: {requestId} Error: Task timed out after {seconds:0.00} seconds");
}
