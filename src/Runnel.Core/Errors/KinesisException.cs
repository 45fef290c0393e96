namespace Runnel.Core.Errors;

/// <summary>
/// An error the client is meant to see, carried as AWS sends it: the <c>__type</c>, the message and the
/// HTTP status. Anything thrown that is not a KinesisException is a bug and is answered as InternalFailure.
/// </summary>
public sealed class KinesisException(string errorType, string? message, int statusCode = 400) : Exception(message ?? errorType)
{
    public string ErrorType { get; } = errorType;

    /// <summary>The message sent to the client; null when AWS sends only the <c>__type</c>.</summary>
    public string? WireMessage { get; } = message;

    public int StatusCode { get; } = statusCode;

    /// <summary>AWS names the field <c>Message</c> in type-check SerializationExceptions and <c>message</c> elsewhere.</summary>
    public bool CapitalMessageField { get; init; }
}
