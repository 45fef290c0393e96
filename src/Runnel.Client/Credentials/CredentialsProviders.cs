namespace Runnel.Client.Credentials;

/// <summary>
/// Credentials from the environment: <c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c> and, for temporary
/// credentials, <c>AWS_SESSION_TOKEN</c>; read at each call, so a change is seen. Thread-safe.
/// </summary>
/// <param name="environment">Reads an environment variable; default the process's environment.</param>
public sealed class EnvironmentCredentialsProvider(Func<string, string?>? environment = null) : IAwsCredentialsProvider
{
    private readonly Func<string, string?> _environment = environment ?? Environment.GetEnvironmentVariable;

    /// <summary>The environment's credentials, or null when it has no complete key pair.</summary>
    public AwsCredentials? TryGetCredentials()
    {
        string? id = SharedConfigFiles.Variable(_environment, "AWS_ACCESS_KEY_ID");
        string? secret = SharedConfigFiles.Variable(_environment, "AWS_SECRET_ACCESS_KEY");
        return id is null || secret is null ? null : new AwsCredentials(id, secret, SharedConfigFiles.Variable(_environment, "AWS_SESSION_TOKEN"));
    }

    /// <inheritdoc/>
    public ValueTask<AwsCredentials> GetCredentialsAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(TryGetCredentials() ?? throw new AwsCredentialsException("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set."));
}

/// <summary>
/// Credentials of a profile of the shared files (<see cref="SharedConfigFiles"/>: the credentials file wins over the
/// config file). The files are read once, on first use. Thread-safe.
/// </summary>
public sealed class SharedCredentialsProvider : IAwsCredentialsProvider
{
    private readonly Lazy<SharedConfigFiles> _files;

    /// <summary>The profile <paramref name="profile"/> (default <c>AWS_PROFILE</c>, else <c>default</c>) of the files the environment names (default in <c>~/.aws</c>).</summary>
    /// <param name="profile">The profile; null for the environment's.</param>
    /// <param name="environment">Reads an environment variable; default the process's environment.</param>
    public SharedCredentialsProvider(string? profile = null, Func<string, string?>? environment = null) =>
        _files = new Lazy<SharedConfigFiles>(() => SharedConfigFiles.FromEnvironment(profile, environment));

    /// <summary>A profile of files already read.</summary>
    public SharedCredentialsProvider(SharedConfigFiles files) => _files = new Lazy<SharedConfigFiles>(files);

    /// <summary>The profile's credentials, or null when it has none.</summary>
    public AwsCredentials? TryGetCredentials() => _files.Value.Credentials;

    /// <inheritdoc/>
    public ValueTask<AwsCredentials> GetCredentialsAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(TryGetCredentials()
            ?? throw new AwsCredentialsException($"The profile '{_files.Value.Profile}' of the AWS shared files has no aws_access_key_id and aws_secret_access_key."));
}

/// <summary>
/// The standard AWS credential chain, in order: the environment (<see cref="EnvironmentCredentialsProvider"/>), then the
/// shared credentials and config files (<see cref="SharedCredentialsProvider"/>). The first that has credentials gives
/// them, looked up again at each call (the files are read once). Not covered: web identity tokens, SSO, credential
/// processes, and the ECS container and EC2 instance metadata endpoints; with those, give a provider of your own.
/// Thread-safe.
/// </summary>
/// <param name="profile">The profile of the shared files; null for <c>AWS_PROFILE</c>, else <c>default</c>.</param>
/// <param name="environment">Reads an environment variable; default the process's environment.</param>
public sealed class DefaultCredentialsChain(string? profile = null, Func<string, string?>? environment = null) : IAwsCredentialsProvider
{
    private readonly EnvironmentCredentialsProvider _environment = new(environment);
    private readonly SharedCredentialsProvider _files = new(profile, environment);

    /// <inheritdoc/>
    public ValueTask<AwsCredentials> GetCredentialsAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_environment.TryGetCredentials() ?? _files.TryGetCredentials()
            ?? throw new AwsCredentialsException("No AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give the profile keys in ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE), or pass a credentials provider."));
}
