using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using Runnel.Client.Tests.Fleet;

namespace Runnel.Client.Tests;

/// <summary>
/// <c>dotnet pack src/Runnel.Client</c> makes a package that carries the library, its XML docs and its README, under
/// the id and description the csproj gives. Packs the build this test runs against (<c>--no-build</c>), so it is quick.
/// </summary>
public sealed class PackagingTests
{
    [Fact(Timeout = 120_000)]
    public async Task Pack_makes_a_package_with_the_library_its_docs_and_its_readme()
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = framework.Parent!;
        string repo = configuration.Parent!.Parent!.Parent!.Parent!.FullName;
        string output = Path.Combine(Path.GetTempPath(), "runnel-pack-" + Guid.NewGuid().ToString("N"));
        try
        {
            var start = new ProcessStartInfo(WorkerProcess.DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string arg in new[] { "pack", Path.Combine(repo, "src", "Runnel.Client", "Runnel.Client.csproj"), "-c", configuration.Name, "--no-build", "-o", output, "-nologo" })
                start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            var said = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(100));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            finally
            {
                if (!process.HasExited)
                    process.Kill(entireProcessTree: true);
            }
            Assert.True(process.ExitCode == 0, await said + await errors);

            string package = Assert.Single(Directory.GetFiles(output, "Runnel.Client.*.nupkg"));
            using var zip = ZipFile.OpenRead(package);
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Contains("lib/net10.0/Runnel.Client.dll", entries);
            Assert.Contains("lib/net10.0/Runnel.Client.xml", entries);
            Assert.Contains("README.md", entries);

            using (var docs = new StreamReader(zip.GetEntry("lib/net10.0/Runnel.Client.xml")!.Open()))
                Assert.Contains("T:Runnel.Client.Processing.KinesisWorker", await docs.ReadToEndAsync());
            XNamespace ns = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";
            XDocument nuspec;
            using (var stream = zip.GetEntry("Runnel.Client.nuspec")!.Open())
                nuspec = XDocument.Load(stream);
            var metadata = nuspec.Root!.Element(ns + "metadata")!;
            Assert.Equal("Runnel.Client", metadata.Element(ns + "id")!.Value);
            Assert.Equal("README.md", metadata.Element(ns + "readme")!.Value);
            Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "version")!.Value));
            Assert.Contains("Kinesis", metadata.Element(ns + "description")!.Value);
            // The library ships alone: no Runnel project among its dependencies.
            Assert.DoesNotContain(metadata.Descendants(ns + "dependency"), d => d.Attribute("id")!.Value.StartsWith("Runnel", StringComparison.Ordinal));
        }
        finally
        {
            try { Directory.Delete(output, recursive: true); } catch (IOException) { }
        }
    }
}
