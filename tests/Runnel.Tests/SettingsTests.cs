using Runnel.Storage.Log;

namespace Runnel.Tests;

/// <summary>Flags, RUNNEL_* variables and the JSON file, their precedence, and the errors for bad values.</summary>
public class SettingsTests
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];

    [Fact]
    public void Defaults_serve_a_developer_laptop()
    {
        var options = Settings.Load([], NoEnvironment);
        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(4567, options.Port);
        Assert.Equal("./data", options.DataDir);
        Assert.Equal("us-east-1", options.Region);
        Assert.Equal("000000000000", options.AccountId);
        Assert.Equal(500, options.ShardLimit);
        Assert.Equal(FsyncPolicy.Interval, options.Log.Fsync);
        Assert.True(options.Limits.Enabled);
    }

    [Fact]
    public void Firehose_settings_are_read_and_a_bad_S3_endpoint_is_refused()
    {
        var options = Settings.Load(["--s3-endpoint", "http://127.0.0.1:9000", "--s3-access-key-id", "minio", "--delivery-stream-create-delay", "1500"],
            new Dictionary<string, string?> { ["RUNNEL_S3_SECRET_ACCESS_KEY"] = "secret", ["RUNNEL_REGION"] = "eu-west-1" });
        Assert.Equal(new Uri("http://127.0.0.1:9000"), options.S3!.Endpoint);
        Assert.Equal(("minio", "secret", "eu-west-1", true), (options.S3.AccessKeyId, options.S3.SecretAccessKey, options.S3.Region, options.S3.PathStyle));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.DeliveryStreamCreateDelay);
        Assert.False(Settings.Load(["--s3-endpoint", "http://s3.local", "--s3-path-style", "off"], NoEnvironment).S3!.PathStyle);
        var aws = Settings.Load(["--s3-endpoint", "aws", "--s3-region", "eu-central-1"], NoEnvironment).S3!;
        Assert.Null(aws.Endpoint);
        Assert.Equal("eu-central-1", aws.Region);
        Assert.Null(Settings.Load(["--s3-dir", "/srv/objects"], NoEnvironment).S3);
        Assert.Equal("/srv/objects", Settings.Load(["--s3-dir", "/srv/objects"], NoEnvironment).S3Directory);
        Assert.Null(Settings.Load([], NoEnvironment).ChannelFreshness);
        Assert.True(Settings.Load([], NoEnvironment).Metrics);
        Assert.False(Settings.Load(["--metrics", "off"], NoEnvironment).Metrics);
        Assert.True(Settings.Load([], NoEnvironment).Console);
        Assert.False(Settings.Load(["--console", "off"], NoEnvironment).Console);
        Assert.False(Settings.Load([], new Dictionary<string, string?> { ["RUNNEL_CONSOLE"] = "off" }).Console);
        Assert.Equal(TimeSpan.FromHours(24), Settings.Load([], NoEnvironment).MetricsRetention);
        Assert.Equal(TimeSpan.FromHours(48), Settings.Load(["--metrics-retention", "48"], NoEnvironment).MetricsRetention);
        Assert.Equal(new Uri("http://127.0.0.1:4317"), Settings.Load(["--otlp-endpoint", "http://127.0.0.1:4317"], NoEnvironment).OtlpEndpoint);
        Assert.Throws<ArgumentException>(() => Settings.Load(["--otlp-endpoint", "collector:4317"], NoEnvironment));
        var channels = Settings.Load(["--channel-delay", "250", "--channel-freshness", "2"], NoEnvironment);
        Assert.Equal((TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2)), (channels.ChannelDelay, channels.ChannelFreshness));
        Assert.Throws<ArgumentException>(() => Settings.Load(["--channel-freshness", "901"], NoEnvironment));
        var e = Assert.Throws<ArgumentException>(() => Settings.Load(["--s3-endpoint", "minio:9000"], NoEnvironment));
        Assert.Equal("--s3-endpoint must be an http:// or https:// URL, or 'aws', not 'minio:9000'.", e.Message);
    }

    [Fact]
    public void Tls_and_fan_out_settings_are_read()
    {
        string dir = Directory.CreateTempSubdirectory("runnel-settings-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "c.pem"), "");
            File.WriteAllText(Path.Combine(dir, "k.pem"), "");
            var options = Settings.Load(
                ["--tls-port", "4568", "--tls-cert", Path.Combine(dir, "c.pem"), "--tls-key", Path.Combine(dir, "k.pem"), "--subscription-lifetime", "2000", "--consumer-read-bytes", "1000"],
                NoEnvironment);
            Assert.Equal(4568, options.TlsPort);
            Assert.Equal(Path.Combine(dir, "c.pem"), options.TlsCertificate);
            Assert.Equal(Path.Combine(dir, "k.pem"), options.TlsKey);
            Assert.Equal(TimeSpan.FromSeconds(2), options.SubscriptionLifetime);
            Assert.Equal(1000, options.Limits.ConsumerReadBytesPerSecond);
            var defaults = Settings.Load([], NoEnvironment);
            Assert.Null(defaults.TlsPort);
            Assert.Equal(TimeSpan.FromMinutes(5), defaults.SubscriptionLifetime);
            Assert.Equal(2 * 1024 * 1024, defaults.Limits.ConsumerReadBytesPerSecond);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Flags_set_every_documented_setting()
    {
        var options = Settings.Load(
        [
            "--port", "9000", "--host", "0.0.0.0", "--data-dir", "/tmp/x", "--region", "eu-west-1", "--account-id", "123456789012",
            "--create-stream-delay", "500", "--delete-stream-delay", "600", "--update-stream-delay", "700", "--shard-limit", "20",
            "--consumer-create-delay", "800", "--consumer-delete-delay", "900", "--commitment-period", "60000",
            "--fsync", "always", "--fsync-interval", "50", "--segment-bytes", "1048576", "--max-request-bytes", "1000000",
            "--limits", "off", "--shard-write-bytes", "2000000", "--shard-write-records", "5000", "--shard-read-bytes", "4000000",
            "--shard-reads", "20", "--shard-iterators", "50", "--on-demand-window", "12", "--on-demand-scale-up", "0.5",
            "--on-demand-scale-down", "0.1", "--on-demand-scale-down-after", "30", "--on-demand-cooldown", "3",
        ], NoEnvironment);
        Assert.Equal(9000, options.Port);
        Assert.Equal("0.0.0.0", options.Host);
        Assert.Equal("/tmp/x", options.DataDir);
        Assert.Equal("eu-west-1", options.Region);
        Assert.Equal("123456789012", options.AccountId);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.CreateStreamDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(600), options.DeleteStreamDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(700), options.UpdateStreamDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(800), options.ConsumerCreateDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(900), options.ConsumerDeleteDelay);
        Assert.Equal(TimeSpan.FromMinutes(1), options.CommitmentPeriod);
        Assert.Equal(20, options.ShardLimit);
        Assert.Equal(FsyncPolicy.Always, options.Log.Fsync);
        Assert.Equal(TimeSpan.FromMilliseconds(50), options.Log.FsyncInterval);
        Assert.Equal(1048576, options.Log.SegmentBytes);
        Assert.Equal(1000000, options.MaxRequestBytes);
        Assert.False(options.Limits.Enabled);
        Assert.Equal(2000000, options.Limits.WriteBytesPerSecond);
        Assert.Equal(5000, options.Limits.WriteRecordsPerSecond);
        Assert.Equal(4000000, options.Limits.ReadBytesPerSecond);
        Assert.Equal(20, options.Limits.ReadsPerSecond);
        Assert.Equal(50, options.Limits.IteratorsPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(12), options.OnDemand.Window);
        Assert.Equal(0.5, options.OnDemand.ScaleUpAt);
        Assert.Equal(0.1, options.OnDemand.ScaleDownBelow);
        Assert.Equal(TimeSpan.FromSeconds(30), options.OnDemand.ScaleDownAfter);
        Assert.Equal(TimeSpan.FromSeconds(3), options.OnDemand.Cooldown);
    }

    [Fact]
    public void Flags_win_over_the_environment_which_wins_over_the_file()
    {
        string dir = Path.Combine(Path.GetTempPath(), "runnel-settings-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string file = Path.Combine(dir, "runnel.json");
            File.WriteAllText(file, """{"Port": 1111, "DataDir": "/from/file", "Region": "ap-south-1", "ShardLimit": 7}""");
            var environment = new Dictionary<string, string?> { ["RUNNEL_PORT"] = "2222", ["RUNNEL_DATA_DIR"] = "/from/env", ["PATH"] = "/bin" };
            var options = Settings.Load(["--config", file, "--port", "3333"], environment);
            Assert.Equal(3333, options.Port);
            Assert.Equal("/from/env", options.DataDir);
            Assert.Equal("ap-south-1", options.Region);
            Assert.Equal(7, options.ShardLimit);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Signatures_are_verified_only_when_asked_and_then_with_a_credentials_file()
    {
        Assert.False(Settings.Load([], NoEnvironment).VerifySignatures);
        string file = Path.Combine(Path.GetTempPath(), "runnel-credentials-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(file, "[a]\naws_access_key_id = K\naws_secret_access_key = S\n");
        try
        {
            var options = Settings.Load(["--auth", "sigv4", "--credentials", file], NoEnvironment);
            Assert.True(options.VerifySignatures);
            Assert.Equal(file, options.CredentialsFile);
            Assert.Contains("needs --credentials", Assert.Throws<ArgumentException>(() => Settings.Load(["--auth", "sigv4"], NoEnvironment)).Message, StringComparison.Ordinal);
            Assert.Contains("must be none or sigv4", Assert.Throws<ArgumentException>(() => Settings.Load(["--auth", "iam"], NoEnvironment)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Alarms_and_their_webhooks_come_from_the_config_file_and_the_alarms_file()
    {
        string dir = Path.Combine(Path.GetTempPath(), "runnel-settings-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string config = Path.Combine(dir, "runnel.json");
            File.WriteAllText(config, """
                {"Port": 1111,
                 "AlarmActions": {"arn:aws:sns:us-east-1:000000000000:ops": "http://127.0.0.1:9000/hook"},
                 "Alarms": [{"AlarmName": "from-config", "Namespace": "AWS/Kinesis", "MetricName": "IncomingRecords", "Statistic": "Sum",
                             "Period": 60, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"}]}
                """);
            string alarms = Path.Combine(dir, "alarms.json");
            File.WriteAllText(alarms, """
                {"AlarmActions": {"arn:aws:sns:us-east-1:000000000000:ops": "http://127.0.0.1:9001/other"},
                 "Alarms": [{"AlarmName": "from-file"}]}
                """);
            var options = Settings.Load(["--config", config, "--alarms", alarms], NoEnvironment);
            Assert.Equal(1111, options.Port);
            Assert.Equal(new Uri("http://127.0.0.1:9001/other"), options.Alarms.Webhooks["arn:aws:sns:us-east-1:000000000000:ops"]); // the alarms file wins
            Assert.Equal(2, options.Alarms.Alarms.Count);
            Assert.Contains("from-config", options.Alarms.Alarms[0], StringComparison.Ordinal);
            File.WriteAllText(alarms, """{"AlarmActions": {"ops": "http://x"}}""");
            Assert.Contains("is not an ARN", Assert.Throws<ArgumentException>(() => Settings.Load(["--alarms", alarms], NoEnvironment)).Message, StringComparison.Ordinal);
            Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => Settings.Load(["--alarms", Path.Combine(dir, "none.json")], NoEnvironment)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { "--port", "http" }, "--port must be a number")]
    [InlineData(new[] { "--port", "70000" }, "--port must be 0..65535")]
    [InlineData(new[] { "--host", "localhost" }, "--host must be an IP address")]
    [InlineData(new[] { "--account-id", "42" }, "--account-id must be 12 digits")]
    [InlineData(new[] { "--fsync", "sometimes" }, "--fsync must be always, interval or never")]
    [InlineData(new[] { "--limits", "maybe" }, "--limits must be on or off")]
    [InlineData(new[] { "--shard-reads", "0" }, "--shard-reads must be 0.001..1000000000000, not 0")]
    [InlineData(new[] { "--fsync-interval", "-5" }, "--fsync-interval must be 1..60000, not -5")]
    [InlineData(new[] { "--fsync-interval", "0" }, "--fsync-interval must be 1..60000, not 0")]
    [InlineData(new[] { "--segment-bytes", "10" }, "--segment-bytes must be 1048576..1073741824, not 10")]
    [InlineData(new[] { "--max-request-bytes", "0" }, "--max-request-bytes must be 65536..1073741824, not 0")]
    [InlineData(new[] { "--max-connections", "0" }, "--max-connections must be 1..1000000, not 0")]
    [InlineData(new[] { "--handshake-timeout", "5" }, "--handshake-timeout must be 100..600000, not 5")]
    [InlineData(new[] { "--shard-limit", "99999999999" }, "--shard-limit must be 1..100000")]
    [InlineData(new[] { "--on-demand-scale-up", "NaN" }, "--on-demand-scale-up must be 0.01..1")]
    [InlineData(new[] { "--on-demand-scale-down", "0.9" }, "--on-demand-scale-down (0.9) must be below --on-demand-scale-up (0.8)")]
    [InlineData(new[] { "--tls-port", "4568" }, "--tls-port needs --tls-cert FILE and --tls-key FILE (PEM).")]
    [InlineData(new[] { "--tls-cert", "c.pem", "--tls-key", "k.pem" }, "--tls-cert and --tls-key are used only with --tls-port PORT.")]
    [InlineData(new[] { "--tls-port", "4568", "--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem" }, "TLS file /nonexistent/c.pem does not exist.")]
    [InlineData(new[] { "--subscription-lifetime", "10" }, "--subscription-lifetime must be 1000..3600000, not 10")]
    [InlineData(new[] { "--region", "US East" }, "--region must be a region name")]
    [InlineData(new[] { "--data-dir", " " }, "--data-dir must name a directory")]
    [InlineData(new[] { "--replicas", "3" }, "--replicas, --nats-credentials and --nats-ca are used only with --nats URLS.")]
    [InlineData(new[] { "--nats-ca", "ca.pem" }, "--replicas, --nats-credentials and --nats-ca are used only with --nats URLS.")]
    [InlineData(new[] { "--nats", "nats://127.0.0.1:4222", "--replicas", "2" }, "--replicas must be 1, 3 or 5 (JetStream's replication), not 2.")]
    [InlineData(new[] { "--nats", "http://127.0.0.1:4222" }, "--nats must be NATS server URLs separated by commas, such as nats://127.0.0.1:4222, not 'http://127.0.0.1:4222'.")]
    [InlineData(new[] { "--nats", "nats://127.0.0.1:4222,," }, "--nats must be NATS server URLs")]
    [InlineData(new[] { "--nats", "nats://127.0.0.1:4222", "--nats-credentials", "/nonexistent/runnel.creds" }, "NATS file /nonexistent/runnel.creds does not exist.")]
    [InlineData(new[] { "--prot", "1" }, "Unknown option --prot")]
    [InlineData(new[] { "--port" }, "Option --port needs a value")]
    [InlineData(new[] { "--config", "/no/such/file.json" }, "does not exist")]
    public void Bad_values_are_refused_with_a_message_that_says_what_to_do(string[] args, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => Settings.Load(args, NoEnvironment));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    /// <summary>Every numeric setting refuses a value just outside its range and accepts both ends.</summary>
    [Fact]
    public void Every_numeric_setting_has_a_range_enforced_at_both_ends()
    {
        var numeric = Settings.All.Where(s => s.Range.Length > 0).ToList();
        Assert.True(numeric.Count >= 20, "every numeric setting declares a range");
        foreach (var setting in numeric)
        {
            string Format(double v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
            double below = setting.Min >= 1 || setting.Min == 0 ? setting.Min - 1 : setting.Min / 2, above = setting.Max * 2;
            foreach (double bad in new[] { below, above })
            {
                var e = Assert.Throws<ArgumentException>(() => Settings.Load([setting.Flag, Format(bad)], NoEnvironment));
                Assert.StartsWith($"{setting.Flag} must be {setting.Range}", e.Message, StringComparison.Ordinal);
            }
            foreach (double good in new[] { setting.Min, setting.Max })
            {
                // Scale-down must stay below scale-up, so the pair is checked with its partner at its default.
                if (setting.Flag == "--on-demand-scale-down" && good >= 0.8 || setting.Flag == "--on-demand-scale-up" && good <= 0.2)
                    continue;
                // A TLS port is read only with its certificate and key; without them the pairing error comes first.
                if (setting.Flag == "--tls-port")
                {
                    Assert.StartsWith("--tls-port needs", Assert.Throws<ArgumentException>(() => Settings.Load([setting.Flag, Format(good)], NoEnvironment)).Message, StringComparison.Ordinal);
                    continue;
                }
                // Replication is a setting of the cluster: read only with --nats.
                Settings.Load(setting.Flag == "--replicas" ? ["--nats", "nats://127.0.0.1:4222", setting.Flag, Format(good)] : [setting.Flag, Format(good)], NoEnvironment);
            }
        }
    }

    [Fact]
    public void The_cluster_settings_are_read_from_flags_and_the_environment()
    {
        string dir = Directory.CreateTempSubdirectory("runnel-settings-").FullName;
        try
        {
            string creds = Path.Combine(dir, "runnel.creds"), ca = Path.Combine(dir, "ca.pem");
            File.WriteAllText(creds, "");
            File.WriteAllText(ca, "");
            var options = Settings.Load(["--nats", "nats://10.0.0.1:4222, nats://10.0.0.2:4222", "--replicas", "5", "--nats-credentials", creds, "--nats-ca", ca], NoEnvironment);
            Assert.Equal("nats://10.0.0.1:4222, nats://10.0.0.2:4222", options.Nats);
            Assert.Equal(5, options.Replicas);
            Assert.Equal(creds, options.NatsCredentials);
            Assert.Equal(ca, options.NatsCa);
            var fromEnvironment = Settings.Load([], new Dictionary<string, string?> { ["RUNNEL_NATS"] = "127.0.0.1:4222", ["RUNNEL_REPLICAS"] = "1" });
            Assert.Equal("127.0.0.1:4222", fromEnvironment.Nats);
            Assert.Equal(1, fromEnvironment.Replicas);
            var embedded = Settings.Load([], NoEnvironment);
            Assert.Null(embedded.Nats);
            Assert.Equal(3, Settings.Load(["--nats", "nats://127.0.0.1:4222"], NoEnvironment).Replicas);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Help_shows_each_range()
    {
        Assert.Equal("1..60000", Settings.All.Single(s => s.Flag == "--fsync-interval").Range);
        Assert.Equal("", Settings.All.Single(s => s.Flag == "--data-dir").Range);
    }
}
