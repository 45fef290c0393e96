using System.Runtime.CompilerServices;

namespace Runnel.Client.Tests;

/// <summary>Servers under test make their development master key (docs/security.md) under a temporary config directory,
/// never in the user's ~/.config: set before any test runs (as the server tests do).</summary>
internal static class TestConfigHome
{
    [ModuleInitializer]
    internal static void Set()
    {
        string home = Path.Combine(Path.GetTempPath(), "runnel-client-test-config-" + Environment.ProcessId);
        Environment.SetEnvironmentVariable("XDG_CONFIG_HOME", home);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(home, recursive: true); } catch (IOException) { }
        };
    }
}
