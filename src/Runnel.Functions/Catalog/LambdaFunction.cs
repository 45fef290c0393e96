namespace Runnel.Functions.Catalog;

/// <summary>
/// A function as Runnel keeps it (docs/adr/0004-functions.md): Lambda's configuration, and where its code runs. In this
/// version a function's code is an HTTP endpoint (<see cref="PackageType"/> <c>Image</c> with <see cref="ImageUri"/> an
/// http or https URL): an invocation's payload is POSTed to it and its answer is the function's result. Immutable.
/// </summary>
public sealed record LambdaFunction
{
    public required string Name { get; init; }

    public required string Arn { get; init; }

    public required string Role { get; init; }

    /// <summary><c>Zip</c> or <c>Image</c>.</summary>
    public required string PackageType { get; init; }

    public string? Runtime { get; init; }

    public string? Handler { get; init; }

    /// <summary>Where the function runs, for <c>Image</c>: an http or https URL.</summary>
    public string? ImageUri { get; init; }

    public string Description { get; init; } = "";

    /// <summary>Seconds an invocation may take (1 to 900; Lambda's default 3).</summary>
    public int Timeout { get; init; } = 3;

    /// <summary>MiB (128 to 10,240; Lambda's default 128); given to the function, not enforced.</summary>
    public int MemorySize { get; init; } = 128;

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Base64 SHA-256 of the code (for an image by URL, of the URL).</summary>
    public required string CodeSha256 { get; init; }

    public long CodeSize { get; init; }

    public required long LastModifiedMillis { get; init; }

    /// <summary>Changes with every change of the function, as Lambda's <c>RevisionId</c>.</summary>
    public required string RevisionId { get; init; }

    /// <summary>The metadata document's revision (0 before it is stored).</summary>
    public ulong Revision { get; init; }
}
