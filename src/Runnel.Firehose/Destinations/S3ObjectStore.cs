using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Runnel.Firehose.Delivery;

namespace Runnel.Firehose.Destinations;

/// <summary>
/// How Runnel reaches an S3-compatible store for S3 destinations: its endpoint (MinIO, Ceph, s3rver, or AWS itself),
/// the credentials (AWS's default chain when none are given), the region it signs for, and path-style addressing
/// (on by default for an endpoint: most S3-compatible stores need it).
/// </summary>
public sealed record S3Settings(Uri? Endpoint, string? AccessKeyId, string? SecretAccessKey, string Region = "us-east-1", bool PathStyle = true)
{
    /// <summary>A client for these settings; one is shared by every bucket and delivery stream.</summary>
    public IAmazonS3 CreateClient()
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = PathStyle,
            AuthenticationRegion = Region,
            Timeout = TimeSpan.FromMinutes(2),
            MaxErrorRetry = 0, // the delivery retries, with its own backoff, for its own retry duration
        };
        if (Endpoint is { } endpoint)
            config.ServiceURL = endpoint.ToString();
        else
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(Region);
        return AccessKeyId is { } key
            ? new AmazonS3Client(new BasicAWSCredentials(key, SecretAccessKey ?? ""), config)
            : new AmazonS3Client(config);
    }

    public string Describe() => Endpoint is { } endpoint ? $"{endpoint.ToString().TrimEnd('/')}{(PathStyle ? " (path-style)" : "")}" : $"AWS S3 in {Region}";
}

/// <summary>
/// One bucket of an S3-compatible store: each object put whole (PutObject with its length, no chunked signing, which
/// some compatible stores keep verbatim: docs/../checked.md), so a failed put leaves nothing under the key. Every
/// failure (refused, unreachable, timed out) is an <see cref="IOException"/> for the delivery to retry. Objects are put
/// with the store's default storage class unless <paramref name="storageClass"/> names another (a channel's
/// StorageClass). Thread-safe.
/// </summary>
public sealed class S3ObjectStore(IAmazonS3 client, string bucket, string endpoint, string? storageClass = null) : IObjectStore
{
    public string Location => $"s3://{bucket} at {endpoint}";

    public async Task WriteAsync(string key, ReadOnlyMemory<byte> payload, ObjectCompression compression, CancellationToken cancellationToken = default)
    {
        var body = new MemoryStream();
        compression.Write(payload, body);
        body.Position = 0;
        var request = new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            InputStream = body,
            UseChunkEncoding = false,
            AutoCloseStream = true,
        };
        if (storageClass is not null and not "STANDARD")
            request.StorageClass = S3StorageClass.FindValue(storageClass);
        try
        {
            await client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            string why = e is AmazonS3Exception s3 ? $"{s3.ErrorCode} ({(int)s3.StatusCode}): {s3.Message}" : e.Message;
            throw new IOException($"PutObject of {key} into {Location} failed: {why}", e);
        }
    }
}
