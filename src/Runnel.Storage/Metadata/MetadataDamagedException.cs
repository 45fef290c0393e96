using Microsoft.Data.Sqlite;

namespace Runnel.Storage.Metadata;

/// <summary>
/// The metadata database cannot be trusted: SQLite's integrity check failed, or SQLite answered
/// SQLITE_CORRUPT or SQLITE_NOTADB. Nothing was changed; the message says which file, what SQLite
/// reported, and how to repair it. An <see cref="IOException"/> (InvalidDataException is sealed), so that
/// a host that reports I/O failures at start-up reports this too.
/// </summary>
public sealed class MetadataDamagedException : IOException
{
    // Enough of the check's output to recognise the damage; the rest is noise to an operator.
    private const int ProblemsShown = 3;

    public MetadataDamagedException(string databasePath, IReadOnlyList<string> problems, Exception? inner = null)
        : base(Describe(databasePath, problems), inner)
    {
        DatabasePath = databasePath;
        Problems = problems;
    }

    /// <summary>The damaged file, e.g. <c>/var/lib/runnel/metadata.db</c>.</summary>
    public string DatabasePath { get; }

    /// <summary>What SQLite reported, one line per problem.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string Describe(string databasePath, IReadOnlyList<string> problems)
    {
        string dataDir = Path.GetDirectoryName(Path.GetFullPath(databasePath)) ?? ".";
        string shown = string.Join("; ", problems.Take(ProblemsShown));
        if (problems.Count > ProblemsShown)
            shown += $"; and {problems.Count - ProblemsShown} more";
        return $"The metadata database {Path.GetFullPath(databasePath)} is damaged (SQLite: {shown}). " +
            $"Stop Runnel, back up {dataDir}, then run 'runnel repair --data-dir {dataDir}': it keeps every readable stream " +
            "and sets the damaged file aside. Records in the shard logs are not affected.";
    }

    /// <summary>
    /// True for SQLite's answers that mean the file's content is bad rather than the system refusing an
    /// operation: SQLITE_CORRUPT (11, with its extended codes) and SQLITE_NOTADB (26).
    /// </summary>
    public static bool IsCorruption(SqliteException e) => (e.SqliteErrorCode & 0xFF) is Corrupt or NotADatabase
        || (e.SqliteExtendedErrorCode & 0xFF) is Corrupt or NotADatabase;

    private const int Corrupt = 11, NotADatabase = 26;
}
