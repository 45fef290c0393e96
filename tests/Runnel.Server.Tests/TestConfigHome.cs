using System.Runtime.CompilerServices;

namespace Runnel.TestSupport;

/// <summary>Servers under test that make a development master key (encryption at rest, docs/security.md) make it
/// under a temporary config directory, never in the user's ~/.config: set before any test runs, inherited by the
/// server processes the tests start.</summary>
internal static class TestConfigHome
{
    [ModuleInitializer]
    internal static void Set()
    {
        string home = Path.Combine(Path.GetTempPath(), "runnel-test-config-" + Environment.ProcessId);
        Environment.SetEnvironmentVariable("XDG_CONFIG_HOME", home);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(home, recursive: true); } catch (IOException) { }
        };
    }
}
