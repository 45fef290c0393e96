namespace Runnel.Client.Credentials;

/// <summary>
/// The AWS shared credentials file (<c>AWS_SHARED_CREDENTIALS_FILE</c>, default <c>~/.aws/credentials</c>) and config
/// file (<c>AWS_CONFIG_FILE</c>, default <c>~/.aws/config</c>), read together: for one profile, a key set in the
/// credentials file wins over the same key in the config file. The profile is <c>AWS_PROFILE</c>, else <c>default</c>,
/// unless one is named. Immutable once loaded, thread-safe.
/// </summary>
public sealed class SharedConfigFiles
{
    private SharedConfigFiles(ProfileFile credentials, ProfileFile config, string profile)
    {
        CredentialsFile = credentials;
        ConfigFile = config;
        Profile = profile;
    }

    /// <summary>The credentials file as read.</summary>
    public ProfileFile CredentialsFile { get; }

    /// <summary>The config file as read.</summary>
    public ProfileFile ConfigFile { get; }

    /// <summary>The profile in use.</summary>
    public string Profile { get; }

    /// <summary>Reads the files at the given paths.</summary>
    /// <param name="credentialsPath">The credentials file; it need not exist.</param>
    /// <param name="configPath">The config file; it need not exist.</param>
    /// <param name="profile">The profile to read.</param>
    public static SharedConfigFiles Load(string credentialsPath, string configPath, string profile) =>
        new(ProfileFile.Load(credentialsPath, isConfigFile: false), ProfileFile.Load(configPath, isConfigFile: true), profile);

    /// <summary>
    /// Reads the files where the environment says they are (or in <c>~/.aws</c>), for <paramref name="profile"/> or else
    /// the environment's <c>AWS_PROFILE</c> or <c>default</c>.
    /// </summary>
    /// <param name="profile">The profile to read; null for the environment's.</param>
    /// <param name="environment">Reads an environment variable; default the process's environment.</param>
    public static SharedConfigFiles FromEnvironment(string? profile = null, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string credentials = ExpandHome(Variable(environment, "AWS_SHARED_CREDENTIALS_FILE") ?? Path.Combine("~", ".aws", "credentials"), environment);
        string config = ExpandHome(Variable(environment, "AWS_CONFIG_FILE") ?? Path.Combine("~", ".aws", "config"), environment);
        return Load(credentials, config, profile ?? Variable(environment, "AWS_PROFILE") ?? "default");
    }

    /// <summary>The value of <paramref name="key"/> for the profile: from the credentials file, else from the config file.</summary>
    public string? Get(string key) => CredentialsFile.Get(Profile, key) ?? ConfigFile.Get(Profile, key);

    /// <summary>The profile's region (<c>region</c>), or null.</summary>
    public string? Region => NonEmpty(Get("region"));

    /// <summary>The profile's access key (<c>aws_access_key_id</c>, <c>aws_secret_access_key</c>, <c>aws_session_token</c>), or null when it has none.</summary>
    public AwsCredentials? Credentials
    {
        get
        {
            // Both keys from one file: a key id of the credentials file is never paired with a secret of the config file.
            foreach (var file in new[] { CredentialsFile, ConfigFile })
            {
                string? id = NonEmpty(file.Get(Profile, "aws_access_key_id"));
                string? secret = NonEmpty(file.Get(Profile, "aws_secret_access_key"));
                if (id is not null && secret is not null)
                    return new AwsCredentials(id, secret, NonEmpty(file.Get(Profile, "aws_session_token")));
            }
            return null;
        }
    }

    internal static string? Variable(Func<string, string?> environment, string name) => NonEmpty(environment(name));

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string ExpandHome(string path, Func<string, string?> environment)
    {
        if (path != "~" && !path.StartsWith("~/", StringComparison.Ordinal) && !path.StartsWith("~\\", StringComparison.Ordinal))
            return path;
        string home = Variable(environment, "HOME") ?? Variable(environment, "USERPROFILE") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return path.Length <= 2 ? home : Path.Combine(home, path[2..]);
    }
}
