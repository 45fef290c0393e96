using Runnel.Protocol;
using Runnel.Protocol.Firehose;
using Runnel.Protocol.Requests;
using Runnel.Protocol.Validation;

namespace Runnel.Firehose.Api;

/// <summary>
/// The Firehose operations (target prefix <see cref="TargetPrefix"/>), each with its shape from the current model
/// and its handler. The server's endpoint does the AWS JSON envelope (size, method, content type, target, body,
/// authentication) and hands a parsed body here; this validates it against the shape and runs the handler.
/// Thread-safe: immutable after construction.
/// </summary>
public sealed class FirehoseApi(FirehoseService service)
{
    public const string TargetPrefix = "Firehose_20150804";

    private static readonly Dictionary<string, Func<FirehoseRequest, ValueTask>> Handlers = new(StringComparer.Ordinal)
    {
        ["CreateDeliveryStream"] = DeliveryStreamOperations.Create,
        ["DeleteDeliveryStream"] = DeliveryStreamOperations.Delete,
        ["DescribeDeliveryStream"] = DeliveryStreamOperations.Describe,
        ["ListDeliveryStreams"] = DeliveryStreamOperations.List,
        ["TagDeliveryStream"] = TagOperations.Tag,
        ["UntagDeliveryStream"] = TagOperations.Untag,
        ["ListTagsForDeliveryStream"] = TagOperations.List,
        ["StartDeliveryStreamEncryption"] = EncryptionOperations.Start,
        ["StopDeliveryStreamEncryption"] = EncryptionOperations.Stop,
        ["UpdateDestination"] = UpdateDestinationOperation.Update,
        ["PutRecord"] = RecordOperations.PutRecord,
        ["PutRecordBatch"] = RecordOperations.PutRecordBatch,
    };

    public FirehoseService Service { get; } = service;

    public bool Has(string operation) => Handlers.ContainsKey(operation);

    /// <summary>Validates the body and runs the operation, writing its answer (at least <c>{}</c>) to <paramref name="response"/>.</summary>
    public async ValueTask HandleAsync(string operation, RequestValue body, IWireWriter response)
    {
        var shape = FirehoseShapes.Operations[operation];
        RequestValidator.Validate(body, shape);
        var request = new FirehoseRequest(body, shape, response, Service);
        await Handlers[operation](request).ConfigureAwait(false);
        if (request.EmptyResponse)
        {
            response.StartObject();
            response.EndObject();
        }
    }
}
