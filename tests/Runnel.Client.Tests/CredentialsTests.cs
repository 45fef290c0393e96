using Runnel.Client.Credentials;
using Runnel.Client.Internal.Http;

namespace Runnel.Client.Tests;

/// <summary>
/// The credential chain and the shared files with temporary files and a dictionary for the environment (the process's
/// own environment is never changed): the INI format's comments, spaces and key case; profiles; the credentials file
/// over the config file; the environment over the files; the region's sources in order.
/// </summary>
public sealed class CredentialsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-client-credentials-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string> _environment = new(StringComparer.Ordinal);

    public CredentialsTests()
    {
        Directory.CreateDirectory(_dir);
        _environment["HOME"] = _dir; // ~/.aws is under the test's directory
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string? Env(string name) => _environment.TryGetValue(name, out string? value) ? value : null;

    private void WriteAws(string file, string text)
    {
        Directory.CreateDirectory(Path.Combine(_dir, ".aws"));
        File.WriteAllText(Path.Combine(_dir, ".aws", file), text);
    }

    [Fact]
    public void Profile_files_read_comments_spaces_key_case_sections_and_nested_settings()
    {
        var file = ProfileFile.Parse("""
            # a comment
            ; another comment
            [default]
              AWS_Access_Key_ID   =   AKIDDEFAULT
            aws_secret_access_key=secret/with+chars= # inline comment
            [profile dev]   ; a comment after the section
            region = eu-west-1
            s3 =
              max_concurrent_requests = 10
            region_after_nested = yes
            [sso-session corp]
            sso_region = us-east-1
            """.Replace("\n", "\r\n", StringComparison.Ordinal), isConfigFile: true);
        Assert.Equal("AKIDDEFAULT", file.Get("default", "aws_access_key_id"));
        Assert.Equal("secret/with+chars=", file.Get("default", "AWS_SECRET_ACCESS_KEY"));
        Assert.Equal("eu-west-1", file.Get("dev", "region"));
        Assert.Null(file.Get("dev", "max_concurrent_requests"));
        Assert.Equal("yes", file.Get("dev", "region_after_nested"));
        Assert.Equal(["default", "dev"], file.ProfileNames.Order());

        // In the credentials file a section is the profile's name; "[profile x]" is not a profile there.
        var credentials = ProfileFile.Parse("[dev]\naws_access_key_id=A\n[profile other]\nx=y\n", isConfigFile: false);
        Assert.True(credentials.HasProfile("dev"));
        Assert.True(credentials.HasProfile("profile other"));
        Assert.False(credentials.HasProfile("other"));
    }

    [Fact]
    public async Task The_credentials_file_wins_over_the_config_file_and_profiles_are_chosen_by_AWS_PROFILE()
    {
        WriteAws("credentials", "[default]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s1\n[dev]\naws_access_key_id = DEVKEY\naws_secret_access_key = s2\naws_session_token = token2\n");
        WriteAws("config", "[default]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = s0\nregion = ap-south-1\n[profile dev]\nregion = eu-central-1\n[profile configonly]\naws_access_key_id = CFG\naws_secret_access_key = s3\n");

        var files = SharedConfigFiles.FromEnvironment(environment: Env);
        Assert.Equal(new AwsCredentials("FROMCREDS", "s1"), files.Credentials);
        Assert.Equal("ap-south-1", files.Region);

        _environment["AWS_PROFILE"] = "dev";
        var dev = await new SharedCredentialsProvider(environment: Env).GetCredentialsAsync();
        Assert.Equal(new AwsCredentials("DEVKEY", "s2", "token2"), dev);
        Assert.Equal("eu-central-1", SharedConfigFiles.FromEnvironment(environment: Env).Region);

        Assert.Equal("CFG", (await new SharedCredentialsProvider("configonly", Env).GetCredentialsAsync()).AccessKeyId);
        await Assert.ThrowsAsync<AwsCredentialsException>(() => new SharedCredentialsProvider("nobody", Env).GetCredentialsAsync().AsTask());
    }

    [Fact]
    public async Task Files_named_by_the_environment_are_read_instead_of_those_in_the_home_directory()
    {
        WriteAws("credentials", "[default]\naws_access_key_id = HOME\naws_secret_access_key = s\n");
        string credentials = Path.Combine(_dir, "elsewhere-credentials");
        string config = Path.Combine(_dir, "elsewhere-config");
        File.WriteAllText(credentials, "[default]\naws_access_key_id = ELSEWHERE\naws_secret_access_key = s\n");
        File.WriteAllText(config, "[default]\nregion = sa-east-1\n");
        _environment["AWS_SHARED_CREDENTIALS_FILE"] = credentials;
        _environment["AWS_CONFIG_FILE"] = config;
        Assert.Equal("ELSEWHERE", (await new DefaultCredentialsChain(environment: Env).GetCredentialsAsync()).AccessKeyId);
        Assert.Equal("sa-east-1", SharedConfigFiles.Load(credentials, config, "default").Region);
    }

    [Fact]
    public async Task The_chain_takes_the_environment_first_then_the_files_and_says_when_there_is_nothing()
    {
        var chain = new DefaultCredentialsChain(environment: Env);
        var none = await Assert.ThrowsAsync<AwsCredentialsException>(() => chain.GetCredentialsAsync().AsTask());
        Assert.Contains("AWS_ACCESS_KEY_ID", none.Message, StringComparison.Ordinal);

        WriteAws("credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");
        Assert.Equal(new AwsCredentials("FILEKEY", "filesecret"), await new DefaultCredentialsChain(environment: Env).GetCredentialsAsync());

        _environment["AWS_ACCESS_KEY_ID"] = "ENVKEY"; // without its secret: not credentials
        Assert.Equal("FILEKEY", (await new DefaultCredentialsChain(environment: Env).GetCredentialsAsync()).AccessKeyId);
        _environment["AWS_SECRET_ACCESS_KEY"] = "envsecret";
        _environment["AWS_SESSION_TOKEN"] = "envtoken";
        Assert.Equal(new AwsCredentials("ENVKEY", "envsecret", "envtoken"), await new DefaultCredentialsChain(environment: Env).GetCredentialsAsync());
        Assert.Equal(new AwsCredentials("ENVKEY", "envsecret", "envtoken"), await new EnvironmentCredentialsProvider(Env).GetCredentialsAsync());
        Assert.DoesNotContain("envsecret", new AwsCredentials("ENVKEY", "envsecret").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_region_comes_from_the_options_then_AWS_REGION_then_AWS_DEFAULT_REGION_then_the_profile()
    {
        string Region(string? given = null, Uri? endpoint = null) =>
            ServiceEndpoint.Resolve(new KinesisClientOptions { Region = given, Endpoint = endpoint, Environment = Env }, "kinesis").Region;

        Assert.Throws<InvalidOperationException>(() => Region());
        Assert.Equal("us-east-1", Region(endpoint: new Uri("http://localhost:4567"))); // a local endpoint needs a region only to sign
        WriteAws("config", "[default]\nregion = eu-north-1\n[profile other]\nregion = us-west-1\n");
        Assert.Equal("eu-north-1", Region());
        _environment["AWS_PROFILE"] = "other";
        Assert.Equal("us-west-1", Region());
        _environment["AWS_DEFAULT_REGION"] = "ca-central-1";
        Assert.Equal("ca-central-1", Region());
        _environment["AWS_REGION"] = "us-east-2";
        Assert.Equal("us-east-2", Region());
        Assert.Equal("me-south-1", Region("me-south-1"));

        var endpoint = ServiceEndpoint.Resolve(new KinesisClientOptions { Environment = Env }, "kinesis");
        Assert.Equal(new Uri("https://kinesis.us-east-2.amazonaws.com/"), endpoint.Url);
        Assert.IsType<DefaultCredentialsChain>(endpoint.Credentials);
        Assert.Equal(new Uri("https://dynamodb.us-east-2.amazonaws.com/"), ServiceEndpoint.Resolve(new DynamoDbClientOptions { Environment = Env }, "dynamodb").Url);
    }
}
