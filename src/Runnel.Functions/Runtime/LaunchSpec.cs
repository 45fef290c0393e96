namespace Runnel.Functions.Runtime;

/// <summary>
/// How a function's process starts: the program, its arguments, its working directory and its environment (Lambda's
/// variables, the function's own, and <c>AWS_LAMBDA_RUNTIME_API</c> added per sandbox). Immutable.
/// </summary>
public sealed record LaunchSpec(string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>The command line as a log names it.</summary>
    public override string ToString() => string.Join(' ', [FileName, .. Arguments]);
}
