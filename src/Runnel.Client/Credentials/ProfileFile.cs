namespace Runnel.Client.Credentials;

/// <summary>
/// One AWS shared configuration or credentials file, parsed: its sections by profile name, each a set of keys (case
/// ignored) and values. The format: <c>[name]</c> sections (in the config file <c>[profile name]</c>, and
/// <c>[default]</c>), <c>key = value</c> lines with spaces around either side trimmed, whole-line comments starting with
/// <c>#</c> or <c>;</c>, and a comment after a value when <c>#</c> or <c>;</c> follows a space or tab. Indented lines
/// under a key with no value (nested settings, such as a service's) are skipped. Immutable, thread-safe.
/// </summary>
public sealed class ProfileFile
{
    private readonly Dictionary<string, Dictionary<string, string>> _profiles;

    private ProfileFile(Dictionary<string, Dictionary<string, string>> profiles) => _profiles = profiles;

    /// <summary>A file with no profiles (a file that does not exist reads as this).</summary>
    public static ProfileFile Empty { get; } = new(new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal));

    /// <summary>The names of the profiles the file holds.</summary>
    public IEnumerable<string> ProfileNames => _profiles.Keys;

    /// <summary>The value of <paramref name="key"/> (case ignored) in <paramref name="profile"/>, or null.</summary>
    public string? Get(string profile, string key) =>
        _profiles.TryGetValue(profile, out var values) && values.TryGetValue(key, out string? value) ? value : null;

    /// <summary>Whether the file has a section for <paramref name="profile"/>.</summary>
    public bool HasProfile(string profile) => _profiles.ContainsKey(profile);

    /// <summary>Reads <paramref name="path"/>; a missing file reads as <see cref="Empty"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="isConfigFile">True for the config file, whose sections are <c>[profile name]</c> (and <c>[default]</c>); false for the credentials file, whose sections are <c>[name]</c>.</param>
    public static ProfileFile Load(string path, bool isConfigFile)
    {
        try
        {
            return File.Exists(path) ? Parse(File.ReadAllText(path), isConfigFile) : Empty;
        }
        catch (IOException e)
        {
            throw new AwsCredentialsException($"The AWS shared file {path} could not be read: {e.Message}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new AwsCredentialsException($"The AWS shared file {path} could not be read: {e.Message}", e);
        }
    }

    /// <summary>Parses the text of a file (see <see cref="Load"/>).</summary>
    public static ProfileFile Parse(string text, bool isConfigFile)
    {
        var profiles = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        Dictionary<string, string>? current = null;
        bool inNested = false;
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            string trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] is '#' or ';')
                continue;
            if (trimmed[0] == '[')
            {
                inNested = false;
                current = null;
                int close = trimmed.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                    continue; // a malformed section: its keys are ignored, as the SDKs ignore them
                string? name = ProfileName(trimmed[1..close].Trim(), isConfigFile);
                if (name is null)
                    continue;
                // A second section of the same name adds to the first, a key set again taking the later value.
                if (!profiles.TryGetValue(name, out current))
                    profiles[name] = current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                continue;
            }
            if (current is null)
                continue; // a key outside any section
            if (char.IsWhiteSpace(line[0]) && inNested)
                continue; // a nested setting ("s3 =" then indented lines)
            int equals = trimmed.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                continue;
            string key = trimmed[..equals].Trim();
            string value = StripComment(trimmed[(equals + 1)..]).Trim();
            inNested = value.Length == 0;
            current[key] = value;
        }
        return new ProfileFile(profiles);
    }

    private static string? ProfileName(string section, bool isConfigFile)
    {
        if (!isConfigFile)
            return section;
        if (section == "default")
            return section;
        const string Prefix = "profile";
        if (section.StartsWith(Prefix, StringComparison.Ordinal) && section.Length > Prefix.Length && char.IsWhiteSpace(section[Prefix.Length]))
            return section[Prefix.Length..].Trim();
        return null; // [sso-session x], [services x] and other kinds of section
    }

    private static string StripComment(string value)
    {
        for (int i = 1; i < value.Length; i++)
            if (value[i] is '#' or ';' && value[i - 1] is ' ' or '\t')
                return value[..i];
        return value;
    }
}
