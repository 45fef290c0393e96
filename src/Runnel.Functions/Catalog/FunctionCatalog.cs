using Runnel.Storage.Metadata;

namespace Runnel.Functions.Catalog;

/// <summary>The account's functions (<see cref="DocumentCatalog{T}"/>: metadata documents of kind <see cref="FunctionCodec.Kind"/>, in both backends). Thread-safe.</summary>
public sealed class FunctionCatalog(IMetadataStore store, TimeProvider clock, Action<string>? warn)
    : DocumentCatalog<LambdaFunction>(store, clock, FunctionCodec.Kind, warn)
{
    protected override string Noun => "function";

    protected override byte[] Encode(LambdaFunction item) => FunctionCodec.Encode(item);

    protected override LambdaFunction Decode(byte[] body, ulong revision) => FunctionCodec.Decode(body, revision);

    protected override ulong RevisionOf(LambdaFunction item) => item.Revision;
}
