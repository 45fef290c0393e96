using Microsoft.Playwright;

namespace Runnel.Console.Tests;

/// <summary>A server started with <c>--auth sigv4</c> and a credentials file of one key pair, and a browser.</summary>
public sealed class SignedBrowserFixture : BrowserFixture
{
    public const string AccessKey = "AKIACONSOLETEST00001";
    public const string Secret = "console/Test+Secret0001";

    private static readonly string CredentialsDir = Path.Combine(Path.GetTempPath(), "runnel-console-auth-" + Guid.NewGuid().ToString("N"));

    public SignedBrowserFixture()
        : base(o => o with { VerifySignatures = true, CredentialsFile = WriteCredentials() })
    {
    }

    private static string WriteCredentials()
    {
        Directory.CreateDirectory(CredentialsDir);
        string file = Path.Combine(CredentialsDir, "credentials");
        File.WriteAllText(file, $"[console]\naws_access_key_id = {AccessKey}\naws_secret_access_key = {Secret}\n");
        return file;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        try { Directory.Delete(CredentialsDir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The console on a server that checks signatures: refused with the default key pair, and pointed at
/// Settings; working, the pipeline view included, once a key pair of the credentials file is saved there.</summary>
public sealed class SignedConsoleTests(SignedBrowserFixture fixture) : IClassFixture<SignedBrowserFixture>
{
    private readonly List<string> _errors = [];

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    [Fact(Timeout = 120_000)]
    public async Task The_console_needs_a_key_pair_of_the_credentials_file_and_works_with_one()
    {
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/#/streams");
        var refusal = page.Locator("#credentials-notice");
        await Expect(refusal).ToContainTextAsync("UnrecognizedClientException: this server checks signatures");
        await refusal.GetByRole(AriaRole.Link, new() { Name = "Settings" }).ClickAsync();

        await page.GetByLabel("Access key id").FillAsync(SignedBrowserFixture.AccessKey);
        await page.GetByLabel("Secret access key").FillAsync(SignedBrowserFixture.Secret);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Saved.");

        await page.GotoAsync("/#/streams");
        string name = ConsoleServer.UniqueName("signed");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Shards").FillAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create stream" }).ClickAsync();
        await Expect(page.Locator($"#streams tr[data-stream='{name}']")).ToBeVisibleAsync();
        await Expect(refusal).ToBeHiddenAsync(); // a call answered: the notice goes

        // The pipeline view is a GET that the console signs too: refused unsigned, answered signed.
        await page.GotoAsync("/#/pipeline");
        await Expect(page.Locator("#map-source")).ToContainTextAsync("From Runnel's pipeline view");
        lock (_errors)
            Assert.True(_errors.Count == 0, "script errors: " + string.Join(" | ", _errors));
    }
}
