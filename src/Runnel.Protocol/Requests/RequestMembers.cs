using Runnel.Protocol.Validation;

namespace Runnel.Protocol.Requests;

/// <summary>
/// Typed access to a validated request's members, the same for every service's request: a null counts as absent,
/// integers as AWS reads them (floored, clamped), booleans also from the strings AWS accepts.
/// </summary>
public static class RequestMembers
{
    public static RequestValue? Member(this RequestValue body, string name) =>
        body.TryGetProperty(name, out var value) && !value.IsAbsent ? value : null;

    public static string? StringMember(this RequestValue body, string name) =>
        body.Member(name) is { Kind: RequestKind.String } v ? v.GetString() : null;

    public static long? IntegerMember(this RequestValue body, string name) =>
        body.Member(name) is { Kind: RequestKind.Number } v ? RequestValidator.IntegerValue(v, WireType.Integer) : null;

    public static bool? BooleanMember(this RequestValue body, string name) => body.Member(name) switch
    {
        { Kind: RequestKind.True } => true,
        { Kind: RequestKind.False } => false,
        { Kind: RequestKind.String } v => WireValues.ParseBoolean(v.GetString()),
        _ => null,
    };
}
