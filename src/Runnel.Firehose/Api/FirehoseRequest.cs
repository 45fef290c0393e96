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

    public RequestValue? Member(string name) => Body.Member(name);

    public string? String(string name) => Body.StringMember(name);

    public long? Integer(string name) => Body.IntegerMember(name);

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
