using Runnel.Firehose.Delivery;

namespace Runnel.Firehose.Destinations;

/// <summary>
/// Where an S3 destination's objects go: a bucket of an S3-compatible store (<see cref="S3ObjectStore"/>) or a local
/// directory laid out as one (<see cref="FileDestination"/>). An object is written whole or not at all; a failure is
/// an <see cref="IOException"/> (the delivery retries it) and never leaves a partial object under its key.
/// </summary>
public interface IObjectStore
{
    /// <summary>Where the objects go, for the operator (a directory, or a bucket at an endpoint).</summary>
    string Location { get; }

    /// <summary>Writes <paramref name="payload"/>, compressed with <paramref name="compression"/>, as the object <paramref name="key"/>.</summary>
    Task WriteAsync(string key, ReadOnlyMemory<byte> payload, ObjectCompression compression, CancellationToken cancellationToken = default);
}
