using Runnel.Client.Credentials;

namespace Runnel.Client.Internal.Http;

/// <summary>
/// A client's resolved settings: the URL, the region and the credentials provider, from the options first, then the
/// environment and the shared config files. Resolved once, when the client is made. Immutable.
/// </summary>
internal sealed record ServiceEndpoint(Uri Url, string Region, string SigningService, IAwsCredentialsProvider Credentials)
{
    /// <summary>Resolves <paramref name="options"/> for the service signed as <paramref name="signingService"/> (<c>kinesis</c>, <c>dynamodb</c>).</summary>
    public static ServiceEndpoint Resolve(AwsClientOptions options, string signingService)
    {
        var environment = options.Environment;
        string? region = options.Region
            ?? SharedConfigFiles.Variable(environment, "AWS_REGION")
            ?? SharedConfigFiles.Variable(environment, "AWS_DEFAULT_REGION");
        if (region is null)
        {
            try
            {
                region = SharedConfigFiles.FromEnvironment(options.Profile, environment).Region;
            }
            catch (AwsCredentialsException)
            {
                // An unreadable config file leaves the region to the fallback below.
            }
        }
        if (region is null && options.Endpoint is not null)
            region = "us-east-1"; // a local endpoint (Runnel) needs a region only to sign with
        if (region is null)
            throw new InvalidOperationException("No AWS region: set the options' Region, AWS_REGION or AWS_DEFAULT_REGION, or a region in the profile of ~/.aws/config.");
        var url = options.Endpoint ?? new Uri($"https://{signingService}.{region}.amazonaws.com/");
        return new ServiceEndpoint(url, region, signingService, options.Credentials ?? new DefaultCredentialsChain(options.Profile, environment));
    }
}
