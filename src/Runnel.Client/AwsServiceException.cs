using System.Net;

namespace Runnel.Client;

/// <summary>
/// An error answered by an AWS service (or Runnel), or a call that failed on its way: the error code of the answer's
/// <c>__type</c> (any <c>namespace#</c> prefix removed), its message, the HTTP status, the request id, and whether the
/// client's retry policy retries it (throttling, 5xx and transport failures are retried; see
/// <see cref="RetryOptions"/>). Thrown after the retries, if any, were spent.
/// </summary>
public class AwsServiceException : Exception
{
    /// <summary>An error answered by the service, or a transport failure (status 0 and <paramref name="innerException"/>).</summary>
    /// <param name="errorCode">The error code, such as <c>ResourceNotFoundException</c>.</param>
    /// <param name="message">The service's message, or a description of the failure.</param>
    /// <param name="statusCode">The HTTP status, or 0 when no answer came.</param>
    /// <param name="requestId">The request id the service gave (<c>x-amzn-RequestId</c>), if any.</param>
    /// <param name="isRetryable">Whether the retry policy retries this error.</param>
    /// <param name="innerException">The transport failure, if that is what this is.</param>
    public AwsServiceException(string errorCode, string message, HttpStatusCode statusCode, string? requestId, bool isRetryable, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
        StatusCode = statusCode;
        RequestId = requestId;
        IsRetryable = isRetryable;
    }

    /// <summary>The error code (the answer's <c>__type</c> without its namespace), such as <c>ResourceNotFoundException</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>The HTTP status of the answer; 0 when the call failed before an answer came.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The service's request id (<c>x-amzn-RequestId</c>), when it answered.</summary>
    public string? RequestId { get; }

    /// <summary>Whether the client retries this error (throttling, a 5xx status, a transport failure or a timeout).</summary>
    public bool IsRetryable { get; }
}

/// <summary>An error of the Kinesis API, such as <c>ResourceNotFoundException</c> or <c>ProvisionedThroughputExceededException</c>.</summary>
public sealed class KinesisException : AwsServiceException
{
    /// <inheritdoc cref="AwsServiceException(string, string, HttpStatusCode, string?, bool, Exception?)"/>
    public KinesisException(string errorCode, string message, HttpStatusCode statusCode, string? requestId, bool isRetryable, Exception? innerException = null)
        : base(errorCode, message, statusCode, requestId, isRetryable, innerException)
    {
    }
}

/// <summary>An error of the DynamoDB API, such as <c>ConditionalCheckFailedException</c> or <c>ResourceNotFoundException</c>.</summary>
public sealed class DynamoDbException : AwsServiceException
{
    /// <inheritdoc cref="AwsServiceException(string, string, HttpStatusCode, string?, bool, Exception?)"/>
    public DynamoDbException(string errorCode, string message, HttpStatusCode statusCode, string? requestId, bool isRetryable, Exception? innerException = null)
        : base(errorCode, message, statusCode, requestId, isRetryable, innerException)
    {
    }
}
