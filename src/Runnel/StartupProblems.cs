namespace Runnel;

/// <summary>Recognises the start-up failures an operator can fix, so the command can say how.</summary>
internal static class StartupProblems
{
    private const int ReadOnlyFilesystem = 30; // EROFS
    private const int PermissionDenied = 13; // EACCES

    /// <summary>True when <paramref name="e"/> (or an exception inside it) says the data directory cannot be written.</summary>
    public static bool IsReadOnly(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is UnauthorizedAccessException)
                return true;
            if (x is IOException && ((x.HResult & 0xFFFF) is ReadOnlyFilesystem or PermissionDenied
                || x.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase)))
                return true;
        }
        return false;
    }
}
