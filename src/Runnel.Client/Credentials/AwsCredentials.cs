namespace Runnel.Client.Credentials;

/// <summary>An AWS access key to sign requests with, and the session token of temporary credentials.</summary>
/// <param name="AccessKeyId">The access key id (<c>AKIA…</c>, or <c>ASIA…</c> for temporary credentials).</param>
/// <param name="SecretAccessKey">The secret access key.</param>
/// <param name="SessionToken">The session token of temporary credentials, sent as <c>x-amz-security-token</c>; null for long-term keys.</param>
public sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    /// <summary>The access key id only: the secret stays out of logs.</summary>
    public override string ToString() => $"AwsCredentials {{ AccessKeyId = {AccessKeyId} }}";
}

/// <summary>Gives the credentials a client signs with. Implementations are thread-safe.</summary>
public interface IAwsCredentialsProvider
{
    /// <summary>The credentials to sign the next request with.</summary>
    /// <exception cref="AwsCredentialsException">No credentials could be found.</exception>
    ValueTask<AwsCredentials> GetCredentialsAsync(CancellationToken cancellationToken = default);
}

/// <summary>No credentials were found where a provider looked, or a credentials file could not be read.</summary>
public sealed class AwsCredentialsException : Exception
{
    /// <summary>An exception with the given message.</summary>
    public AwsCredentialsException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>Always the same credentials. Thread-safe.</summary>
public sealed class StaticCredentialsProvider(AwsCredentials credentials) : IAwsCredentialsProvider
{
    /// <summary>Credentials from an access key pair and, for temporary credentials, a session token.</summary>
    public StaticCredentialsProvider(string accessKeyId, string secretAccessKey, string? sessionToken = null)
        : this(new AwsCredentials(accessKeyId, secretAccessKey, sessionToken))
    {
    }

    /// <inheritdoc/>
    public ValueTask<AwsCredentials> GetCredentialsAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult(credentials);
}
