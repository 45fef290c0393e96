namespace Runnel.Storage;

/// <summary>
/// Where writers report how their writes to the data directory went, so that one place tells the operator about a
/// full, read-only or failing disk (the log, <c>/health</c>) and the writer can tell such a condition from a bug.
/// </summary>
public interface IWriteHealth
{
    /// <summary>Records a failed write; returns the disk condition, or null when <paramref name="e"/> is not one (a bug: the caller handles it).</summary>
    StorageFaultKind? Failed(string operation, Exception e);

    /// <summary>A write reached the disk.</summary>
    void Succeeded();
}
