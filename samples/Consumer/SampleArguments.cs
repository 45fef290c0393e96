/// <summary>The samples' command line: <c>--name value</c> pairs from a known set.</summary>
internal static class SampleArguments
{
    /// <summary>The options given, or null for <c>--help</c> or anything unknown or without a value.</summary>
    public static Dictionary<string, string>? Parse(string[] args, IReadOnlyCollection<string> known)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i += 2)
        {
            if (!known.Contains(args[i]) || i + 1 >= args.Length)
                return null;
            options[args[i]] = args[i + 1];
        }
        return options;
    }
}
