namespace Runnel.Functions.Api;

/// <summary>
/// A Lambda error as the API answers it: the type in <c>x-amzn-ErrorType</c>, the HTTP status, and the body
/// <c>{"Type": "User", "message": ...}</c> (<see cref="Kind"/> "User" for the caller's errors, "Service" for Runnel's).
/// </summary>
public sealed class LambdaException(string errorType, string message, int statusCode, string kind = "User") : Exception(message)
{
    public string ErrorType { get; } = errorType;

    public int StatusCode { get; } = statusCode;

    public string Kind { get; } = kind;
}

/// <summary>The errors the operations raise, with Lambda's types, statuses and texts.</summary>
public static class LambdaErrors
{
    public static LambdaException FunctionNotFound(string arn) => new("ResourceNotFoundException", $"Function not found: {arn}", 404);

    public static LambdaException FunctionExists(string name) => new("ResourceConflictException", $"Function already exist: {name}", 409);

    public static LambdaException InvalidParameter(string message) => new("InvalidParameterValueException", message, 400);

    /// <summary>A value outside the model's constraints, in the model validator's words.</summary>
    public static LambdaException Validation(string value, string member, string constraint) =>
        new("ValidationException", $"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}", 400);

    public static LambdaException InvalidRequestContent(string message) => new("InvalidRequestContentException", message, 400);

    public static LambdaException RequestTooLarge(long limit) =>
        new("RequestTooLargeException", $"Request must be smaller than {limit} bytes for the InvokeFunction operation", 413);

    public static LambdaException UnknownOperation() => new("UnknownOperationException", "Unknown operation", 404);

    public static LambdaException Service(string message) => new("ServiceException", message, 500, "Service");
}
