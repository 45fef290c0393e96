using Microsoft.Playwright;

namespace Runnel.Console.Tests;

/// <summary>A server and Debian's chromium (headless, driven by Playwright), shared by the browser tests of a class;
/// both stopped when they end. Screenshots and first-paint timings go to <c>artifacts/console/</c> at the repository root.</summary>
public class BrowserFixture : IAsyncLifetime
{
    public BrowserFixture()
        : this(o => o)
    {
    }

    /// <summary>A fixture whose server is started with options of its own (<see cref="SignedBrowserFixture"/>).</summary>
    protected BrowserFixture(Func<Runnel.Server.RunnelOptions, Runnel.Server.RunnelOptions> configure) => Server = new() { Configure = configure };

    public const string Chromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public ConsoleServer Server { get; }

    public IBrowser Browser { get; private set; } = null!;

    public static string Artifacts { get; } = FindArtifacts();

    public async Task InitializeAsync()
    {
        await Server.InitializeAsync();
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: scripts/install-test-deps.sh installs Debian's chromium.");
        _playwright = await Playwright.CreateAsync();
        Assertions.SetDefaultExpectTimeout(15_000); // the whole suite shares two cores with this browser
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
    }

    public virtual async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.CloseAsync();
        _playwright?.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>A fresh page on a laptop-sized screen; scripts' uncaught errors are collected in <paramref name="errors"/>.</summary>
    public async Task<IPage> NewPageAsync(List<string> errors)
    {
        var context = await Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 720 }, BaseURL = Server.Url.ToString() });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => { lock (errors) errors.Add(error); };
        // An answer's status is the page's to show (the alarm view shows UnknownOperation, the map falls back on a
        // 404): only scripts' own errors count.
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
                lock (errors) errors.Add(message.Text);
        };
        return page;
    }

    public static Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, name + ".png"), FullPage = true });

    private static string FindArtifacts()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Runnel.slnx")))
            directory = directory.Parent;
        string path = Path.Combine(directory?.FullName ?? Path.GetTempPath(), "artifacts", "console");
        Directory.CreateDirectory(path);
        return path;
    }
}
