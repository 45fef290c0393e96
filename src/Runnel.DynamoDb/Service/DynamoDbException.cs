using Runnel.DynamoDb.Model;

namespace Runnel.DynamoDb.Service;

/// <summary>Why one action of a TransactWriteItems call was cancelled, as CancellationReasons lists it.</summary>
/// <param name="Code">"None" for an action that would have succeeded, else "ConditionalCheckFailed", "ValidationError", …</param>
public sealed record CancellationReason(string Code, string? Message = null, Item? Item = null);

/// <summary>
/// An error the client is meant to see, as DynamoDB sends it: the full <c>__type</c> (with its namespace), the
/// message and the HTTP status (400 for all of DynamoDB's client errors), and for some errors more members
/// (the item of a failed condition when the request asked for it, a transaction's cancellation reasons).
/// </summary>
public sealed class DynamoDbException(string errorType, string? message, int statusCode = 400) : Exception(message ?? errorType)
{
    public string ErrorType { get; } = errorType;

    /// <summary>The message sent; null when AWS sends only the <c>__type</c>.</summary>
    public string? WireMessage { get; } = message;

    public int StatusCode { get; } = statusCode;

    /// <summary>AWS names the field <c>Message</c> in SerializationException and TransactionCanceledException, <c>message</c> elsewhere.</summary>
    public bool CapitalMessageField { get; init; }

    /// <summary>The item as it was, on a failed condition whose request set ReturnValuesOnConditionCheckFailure to ALL_OLD.</summary>
    public Item? Item { get; init; }

    /// <summary>A cancelled transaction's reasons, one per action, in the request's order.</summary>
    public IReadOnlyList<CancellationReason>? CancellationReasons { get; init; }
}

/// <summary>DynamoDB's errors with AWS's <c>__type</c> and texts (docs/compatibility.md lists where Runnel's own texts stand in).</summary>
public static class DynamoDbErrors
{
    public const string Namespace = "com.amazonaws.dynamodb.v20120810#";
    private const string Coral = "com.amazon.coral.service#";

    public static DynamoDbException Validation(string message) => new("com.amazon.coral.validate#ValidationException", message);

    public static DynamoDbException Serialization(string message) => new(Coral + "SerializationException", message) { CapitalMessageField = true };

    public static DynamoDbException UnknownOperation() => new(Coral + "UnknownOperationException", null);

    /// <summary>An error of the request's envelope or authentication (MissingAuthenticationTokenException, …), in Coral's namespace.</summary>
    public static DynamoDbException Service(string type, string? message, int status = 400) => new(Coral + type, message, status);

    public static DynamoDbException AccessDenied(string message) => new(Coral + "AccessDeniedException", message);

    /// <summary>An operation on a table that does not exist, or is not ACTIVE.</summary>
    public static DynamoDbException TableNotFound() => new(Namespace + "ResourceNotFoundException", "Requested resource not found");

    /// <summary>DescribeTable and DeleteTable name the table.</summary>
    public static DynamoDbException TableNotFound(string name) => new(Namespace + "ResourceNotFoundException", $"Requested resource not found: Table: {name} not found");

    /// <summary>UpdateContinuousBackups and DescribeContinuousBackups on a table that does not exist.</summary>
    public static DynamoDbException ContinuousBackupsTableNotFound(string name) => new(Namespace + "TableNotFoundException", $"Table not found: {name}");

    public static DynamoDbException TableExists(string name) => new(Namespace + "ResourceInUseException", $"Table already exists: {name}");

    public static DynamoDbException InUse(string message) => new(Namespace + "ResourceInUseException", message);

    public static DynamoDbException LimitExceeded(string message) => new(Namespace + "LimitExceededException", message);

    public static DynamoDbException ConditionalCheckFailed(Item? item = null) =>
        new(Namespace + "ConditionalCheckFailedException", "The conditional request failed") { Item = item };

    public static DynamoDbException TransactionCanceled(IReadOnlyList<CancellationReason> reasons) =>
        new(Namespace + "TransactionCanceledException",
            $"Transaction cancelled, please refer cancellation reasons for specific reasons [{string.Join(", ", reasons.Select(r => r.Code))}]")
        {
            CapitalMessageField = true,
            CancellationReasons = reasons,
        };

    /// <summary>A write that kept losing compare-and-set races on one item (Runnel's text; AWS throttles instead).</summary>
    public static DynamoDbException TransactionConflict(string message) => new(Namespace + "TransactionConflictException", message);

    public static DynamoDbException InternalServerError(string message) => new(Namespace + "InternalServerError", message, 500);

    /// <summary>"One or more parameter values were invalid: …", the prefix of most of DynamoDB's checks on values.</summary>
    public static DynamoDbException InvalidParameter(string detail) => Validation("One or more parameter values were invalid: " + detail);
}
