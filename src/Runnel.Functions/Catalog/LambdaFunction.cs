namespace Runnel.Functions.Catalog;

/// <summary>
/// A function as Runnel keeps it (docs/adr/0004-functions.md): Lambda's configuration, and where its code runs: at an
/// HTTP endpoint (<see cref="PackageType"/> <c>Image</c> with <see cref="ImageUri"/> an http or https URL, see
/// <see cref="AtEndpoint"/>), or in processes that serve Lambda's Runtime API (an image's <see cref="EntryPoint"/>, or
/// Zip code: uploaded and kept in <see cref="CodeChunks"/> chunks, or a local <see cref="CodeDirectory"/>). Immutable.
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

    /// <summary>For <c>Image</c>: an http or https URL where the function runs, or the image's name when it runs as <see cref="EntryPoint"/>.</summary>
    public string? ImageUri { get; init; }

    /// <summary>For an image run as a process: ImageConfig's <c>EntryPoint</c> (the program and its first arguments).</summary>
    public IReadOnlyList<string> EntryPoint { get; init; } = [];

    /// <summary>For an image run as a process: ImageConfig's <c>Command</c> (arguments after the entry point's).</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>For an image run as a process: ImageConfig's <c>WorkingDirectory</c>.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>For Zip code used in place (<c>S3Bucket</c> <c>hot-reload</c>): its local directory.</summary>
    public string? CodeDirectory { get; init; }

    /// <summary>For Zip code uploaded (<c>ZipFile</c>): how many chunks of it the metadata store holds (<see cref="FunctionCodeStore"/>).</summary>
    public int CodeChunks { get; init; }

    /// <summary>Whether invocations are POSTed to <see cref="ImageUri"/> rather than served to a process.</summary>
    public bool AtEndpoint => PackageType == "Image" && EntryPoint.Count == 0;

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
