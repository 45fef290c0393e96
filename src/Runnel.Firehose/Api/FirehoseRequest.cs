using System.Text.Json.Nodes;
using Runnel.Protocol;
using Runnel.Protocol.Requests;
using Runnel.Protocol.Validation;

namespace Runnel.Firehose.Api;

/// <summary>One validated Firehose request: typed access to its members, the response writer and the service.</summary>
public sealed class FirehoseRequest(RequestValue body, Shape shape, IWireWriter response, FirehoseService service)
{
    public RequestValue Body { get; } = body;
    public IWireWriter Response { get; } = response;
    public FirehoseService Service { get; } = service;

    /// <summary>True when the operation produced no output (AWS sends <c>{}</c>).</summary>
    public bool EmptyResponse { get; set; }

    public RequestValue? Member(string name) => Body.TryGetProperty(name, out var value) && !value.IsAbsent ? value : null;

    public string? String(string name) => Member(name) is { Kind: RequestKind.String } v ? v.GetString() : null;

    public long? Integer(string name) => Member(name) is { Kind: RequestKind.Number } v ? RequestValidator.IntegerValue(v, WireType.Integer) : null;

    public bool? Boolean(string name) => Member(name) switch
    {
        { Kind: RequestKind.True } => true,
        { Kind: RequestKind.False } => false,
        { Kind: RequestKind.String } v => WireValues.ParseBoolean(v.GetString()),
        _ => null,
    };

    /// <summary>A structure member copied as the model reads it (<see cref="ShapedJson"/>); null when absent.</summary>
    public JsonObject? Structure(string name)
    {
        var member = shape.Members.First(m => m.Name == name);
        return Member(name) is { } value ? ShapedJson.From(value, member.Structure!) : null;
    }

    /// <summary>DeliveryStreamName, required by every operation that has it.</summary>
    public string Name => String("DeliveryStreamName")!;

    /// <summary>The named delivery stream as it is now; ResourceNotFoundException when there is none.</summary>
    public Catalog.DeliveryStream Stream() =>
        Service.Catalog.Find(Name) ?? throw FirehoseErrors.NotFound(Name, Service.Options.AccountId);
}
