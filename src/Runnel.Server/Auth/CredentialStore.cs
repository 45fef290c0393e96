namespace Runnel.Server.Auth;

/// <summary>One key pair of the credentials file, the account it acts for (null: the server's), and what it may do
/// (null: everything in its account, as an account's root user may).</summary>
public sealed record Credential(string AccessKeyId, string SecretAccessKey, string? AccountId, string Profile, IamPolicy? Policy = null);

/// <summary>
/// The key pairs requests may be signed with (<c>--credentials FILE</c>): AWS's shared-credentials INI format, a
/// section per key with <c>aws_access_key_id</c>, <c>aws_secret_access_key</c>, and optionally <c>account_id</c> and an
/// IAM policy (<c>policy</c>, one line of JSON, or <c>policy_file</c>, a path relative to the credentials file). The
/// file and the policy files it names are read again when one changes (looked at no more than once a second), so keys
/// and permissions change without a restart; a file that does not parse leaves what was read before in force, with a
/// warning. Thread-safe.
/// </summary>
public sealed class CredentialStore
{
    private readonly string _path;
    private readonly TimeProvider _clock;
    private readonly Action<string> _warn;
    private readonly Lock _lock = new();
    private Dictionary<string, Credential> _keys = new(StringComparer.Ordinal);
    private IReadOnlyList<(string Path, DateTime Written)> _read = [];
    private long _checkedAt = long.MinValue;

    public CredentialStore(string path, TimeProvider clock, Action<string> warn)
    {
        _path = path;
        _clock = clock;
        _warn = warn;
        if (!File.Exists(path))
            throw new ArgumentException($"--credentials {path} does not exist.");
        try
        {
            (_keys, _read) = Read(path);
        }
        catch (FormatException e)
        {
            throw new ArgumentException(e.Message);
        }
        if (_keys.Count == 0)
            throw new ArgumentException($"--credentials {path} holds no key pair (sections with aws_access_key_id and aws_secret_access_key).");
    }

    public int Count
    {
        get
        {
            lock (_lock)
                return _keys.Count;
        }
    }

    /// <summary>The key pair of an access key id, or null when the file has none.</summary>
    public Credential? Find(string accessKeyId)
    {
        Refresh();
        lock (_lock)
            return _keys.GetValueOrDefault(accessKeyId);
    }

    private void Refresh()
    {
        long now = _clock.GetTimestamp();
        lock (_lock)
        {
            if (_checkedAt != long.MinValue && _clock.GetElapsedTime(_checkedAt, now) < TimeSpan.FromSeconds(1))
                return;
            _checkedAt = now;
        }
        try
        {
            if (_read.All(f => File.GetLastWriteTimeUtc(f.Path) == f.Written))
                return;
            var (keys, read) = Read(_path);
            lock (_lock)
            {
                _keys = keys;
                _read = read;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            _warn($"--credentials {_path} could not be read again ({e.Message}); the keys read before stay in force until it can.");
        }
    }

    /// <summary>The key pairs of the file, with the files read (it and its policy files) and when each was written.</summary>
    private static (Dictionary<string, Credential>, IReadOnlyList<(string, DateTime)>) Read(string path)
    {
        var read = new List<(string, DateTime)> { (path, File.GetLastWriteTimeUtc(path)) };
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var keys = Parse(File.ReadAllText(path), path, policyFile =>
        {
            string full = Path.GetFullPath(policyFile, directory);
            read.Add((full, File.GetLastWriteTimeUtc(full)));
            return File.ReadAllText(full);
        });
        return (keys, read);
    }

    /// <summary>The key pairs of an INI text; <see cref="FormatException"/> naming the line that is not INI or the
    /// section whose policy does not parse. <paramref name="readPolicyFile"/> reads a <c>policy_file</c>.</summary>
    public static Dictionary<string, Credential> Parse(string text, string source, Func<string, string>? readPolicyFile = null)
    {
        var keys = new Dictionary<string, Credential>(StringComparer.Ordinal);
        string? section = null;
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        void Close()
        {
            if (section is null)
                return;
            if (values.TryGetValue("aws_access_key_id", out string? id) && values.TryGetValue("aws_secret_access_key", out string? secret))
            {
                string? account = values.GetValueOrDefault("account_id") ?? values.GetValueOrDefault("aws_account_id");
                if (account is not null && (account.Length != 12 || !account.All(char.IsAsciiDigit)))
                    throw new FormatException($"{source}: the account_id of [{section}] must be 12 digits, not '{account}'.");
                keys[id] = new Credential(id, secret, account, section, PolicyOf(values, section, source, readPolicyFile));
            }
            values.Clear();
        }
        int number = 0;
        foreach (string raw in text.Split('\n'))
        {
            number++;
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
                continue;
            if (line[0] == '[')
            {
                if (line[^1] != ']')
                    throw new FormatException($"{source}, line {number}: a section header ends with ']'.");
                Close();
                section = line[1..^1].Trim();
                continue;
            }
            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || section is null)
                throw new FormatException($"{source}, line {number}: expected 'name = value' inside a [section].");
            values[line[..equals].Trim()] = line[(equals + 1)..].Trim();
        }
        Close();
        return keys;
    }

    private static IamPolicy? PolicyOf(Dictionary<string, string> values, string section, string source, Func<string, string>? readPolicyFile)
    {
        string? json = values.GetValueOrDefault("policy");
        if (values.GetValueOrDefault("policy_file") is { } file)
        {
            if (json is not null)
                throw new FormatException($"{source}: [{section}] has both policy and policy_file; give one.");
            if (readPolicyFile is null)
                throw new FormatException($"{source}: [{section}] names a policy_file, which is read only from a file.");
            try
            {
                json = readPolicyFile(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new FormatException($"{source}: the policy_file of [{section}] could not be read ({e.Message}).");
            }
        }
        try
        {
            return json is null ? null : IamPolicy.Parse(json);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{source}: the policy of [{section}] is not an IAM policy: {e.Message}.");
        }
    }
}
