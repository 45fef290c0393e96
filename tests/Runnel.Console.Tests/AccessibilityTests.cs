using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;

namespace Runnel.Console.Tests;

/// <summary>Every page of the console checked by axe-core (WCAG 2.0 and 2.1, levels A and AA) with real data on it, and
/// the keyboard path through the streams page with a visible focus ring at each stop.</summary>
public sealed class AccessibilityTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private static readonly string[] WcagTags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

    private readonly List<string> _errors = [];

    private ConsoleServer Server => fixture.Server;

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private void NoScriptErrors()
    {
        lock (_errors)
            Assert.True(_errors.Count == 0, "script errors: " + string.Join(" | ", _errors));
    }

    [Fact(Timeout = 90_000)]
    public async Task The_streams_list_has_no_serious_axe_violations()
    {
        string name = await Server.CreateStreamAsync("a11y-list", shards: 1);
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/#/streams");
        await Expect(page.Locator($"#streams tr[data-stream='{name}'] td").Nth(3)).ToHaveTextAsync("1");
        await AssertNoSeriousViolationsAsync(page, "streams");
        NoScriptErrors();
    }

    [Fact(Timeout = 90_000)]
    public async Task A_streams_page_with_records_has_no_serious_axe_violations()
    {
        string name = await StreamWithRecordsAsync("a11y-stream");
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync($"/#/streams/{name}");
        await Expect(page.Locator("#charts figure[data-metric='IncomingRecords'] circle.point").First).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(page.Locator("#lineage g.shard")).ToHaveCountAsync(1);
        await Expect(page.Locator("#shards tbody tr")).ToHaveCountAsync(1);
        Assert.Equal($"{name} – Runnel console", await page.TitleAsync());
        // Each chart's values as a table, opened from the keyboard, staying open (and focused) across refreshes.
        var chart = page.Locator("#charts figure[data-metric='IncomingRecords']");
        await chart.GetByText("Values per minute").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(chart.Locator("details table tbody tr").First).ToBeVisibleAsync();
        await page.WaitForTimeoutAsync(6_000); // past a refresh
        await Expect(chart.Locator("details")).ToHaveAttributeAsync("open", "");
        await Expect(chart.Locator("summary")).ToBeFocusedAsync();
        await AssertNoSeriousViolationsAsync(page, "stream");
        NoScriptErrors();
    }

    [Fact(Timeout = 90_000)]
    public async Task The_data_viewer_showing_records_has_no_serious_axe_violations()
    {
        string name = await StreamWithRecordsAsync("a11y-data");
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync($"/#/streams/{name}/data");
        await Expect(page.GetByLabel("Shard", new() { Exact = true }).Locator("option")).ToHaveCountAsync(1);
        await page.GetByRole(AriaRole.Button, new() { Name = "Read", Exact = true }).ClickAsync();
        await Expect(page.Locator("#records tbody tr")).ToHaveCountAsync(3);
        await AssertNoSeriousViolationsAsync(page, "data viewer");
        NoScriptErrors();
    }

    [Fact(Timeout = 90_000)]
    public async Task The_pipeline_map_has_no_serious_axe_violations()
    {
        string name = await StreamWithRecordsAsync("a11y-map");
        string arn = (await Server.KinesisAsync("DescribeStreamSummary", new { StreamName = name })).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
        await Server.KinesisAsync("RegisterStreamConsumer", new { StreamARN = arn, ConsumerName = ConsoleServer.UniqueName("reader") });
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/#/pipeline");
        await Expect(page.Locator($"#map g.node[data-node='stream:{name}']")).ToBeVisibleAsync();
        await Expect(page.Locator("#edges tbody tr").First).ToBeVisibleAsync();
        await AssertNoSeriousViolationsAsync(page, "pipeline");
        NoScriptErrors();
    }

    [Fact(Timeout = 90_000)]
    public async Task The_alarms_page_with_an_alarm_has_no_serious_axe_violations()
    {
        string stream = await Server.CreateStreamAsync("a11y-alarmed", shards: 1);
        string alarm = ConsoleServer.UniqueName("a11y-alarm");
        await CloudWatchAsync("PutMetricAlarm", new
        {
            AlarmName = alarm,
            Namespace = "AWS/Kinesis",
            MetricName = "IncomingRecords",
            Statistic = "Sum",
            Dimensions = new[] { new { Name = "StreamName", Value = stream } },
            Period = 60,
            EvaluationPeriods = 1,
            Threshold = 1000,
            ComparisonOperator = "GreaterThanThreshold",
            TreatMissingData = "ignore", // no data: a minute's evaluation keeps the state set by hand
        });
        await CloudWatchAsync("SetAlarmState", new { AlarmName = alarm, StateValue = "ALARM", StateReason = "raised by the accessibility test" });
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/#/alarms");
        var row = page.Locator($"#alarms tr[data-alarm='{alarm}']");
        await Expect(row).ToHaveAttributeAsync("data-state", "ALARM");
        await row.GetByRole(AriaRole.Button, new() { Name = $"History of {alarm}" }).ClickAsync();
        await Expect(page.Locator("#history tbody tr").First).ToBeVisibleAsync();
        await AssertNoSeriousViolationsAsync(page, "alarms");
        NoScriptErrors();
    }

    [Fact(Timeout = 60_000)]
    public async Task The_settings_page_has_no_serious_axe_violations()
    {
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/#/settings");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Settings", Level = 1 })).ToBeVisibleAsync();
        await AssertNoSeriousViolationsAsync(page, "settings");
        NoScriptErrors();
    }

    [Fact(Timeout = 120_000)]
    public async Task On_a_phone_wide_window_the_graphs_scroll_sideways_in_regions_the_keyboard_reaches()
    {
        string name = await StreamWithRecordsAsync("a11y-narrow");
        await Server.KinesisAsync("UpdateShardCount", new { StreamName = name, TargetShardCount = 2, ScalingType = "UNIFORM_SCALING" });
        var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 320, Height = 640 }, BaseURL = Server.Url.ToString() });
        try
        {
            var page = await context.NewPageAsync();
            page.PageError += (_, error) => { lock (_errors) _errors.Add(error); };
            await page.GotoAsync($"/#/streams/{name}");
            await Expect(page.Locator("#lineage g.shard")).ToHaveCountAsync(3, new() { Timeout = 20_000 });
            Assert.True(await page.Locator("#lineage").EvaluateAsync<bool>("e => e.scrollWidth > e.clientWidth"), "the lineage graph should overflow at 320 px");
            await Expect(page.GetByRole(AriaRole.Region, new() { Name = "Shard lineage graph" })).ToHaveAttributeAsync("tabindex", "0");
            await AssertNoSeriousViolationsAsync(page, "stream at 320 px");
            await page.GotoAsync("/#/pipeline");
            await Expect(page.Locator($"#map g.node[data-node='stream:{name}']")).ToBeVisibleAsync();
            await page.GetByRole(AriaRole.Region, new() { Name = "Pipeline map" }).FocusAsync();
            await page.Keyboard.PressAsync("ArrowRight");
            await Expect(page.Locator("#map")).Not.ToHaveJSPropertyAsync("scrollLeft", 0);
            await AssertNoSeriousViolationsAsync(page, "pipeline at 320 px");
        }
        finally
        {
            await context.CloseAsync();
        }
        NoScriptErrors();
    }

    [Fact(Timeout = 90_000)]
    public async Task The_five_second_refresh_leaves_the_keyboard_focus_where_it_was()
    {
        string stream = await Server.CreateStreamAsync("a11y-focus", shards: 1);
        string alarm = ConsoleServer.UniqueName("a11y-focus");
        await CloudWatchAsync("PutMetricAlarm", new
        {
            AlarmName = alarm,
            Namespace = "AWS/Kinesis",
            MetricName = "IncomingRecords",
            Statistic = "Sum",
            Dimensions = new[] { new { Name = "StreamName", Value = stream } },
            Period = 60,
            EvaluationPeriods = 1,
            Threshold = 1000,
            ComparisonOperator = "GreaterThanThreshold",
        });
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/#/streams");
        var delete = page.GetByRole(AriaRole.Button, new() { Name = $"Delete stream {stream}" });
        await delete.FocusAsync();
        await page.WaitForTimeoutAsync(6_000); // past a refresh
        await Expect(delete).ToBeFocusedAsync();

        await page.GotoAsync("/#/alarms");
        var history = page.GetByRole(AriaRole.Button, new() { Name = $"History of {alarm}" });
        await history.FocusAsync();
        await page.WaitForTimeoutAsync(6_000); // the table is rebuilt by then
        await Expect(history).ToBeFocusedAsync();

        // Its row deleted, the focus goes to the row now in its place, or to the heading: not back to the top.
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        await page.Keyboard.PressAsync("Tab");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Delete alarm {alarm}" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator($"#alarms tr[data-alarm='{alarm}']")).ToHaveCountAsync(0);
        Assert.True(await page.EvaluateAsync<bool>("document.activeElement !== document.body && document.getElementById('main').contains(document.activeElement)"),
            "focus fell back to the page's body after a delete: " + await page.EvaluateAsync<string>("document.activeElement.outerHTML"));
        NoScriptErrors();
    }

    [Fact(Timeout = 60_000)]
    public async Task Tab_from_the_top_reaches_every_nav_link_and_the_create_form_in_order_with_a_visible_focus_ring()
    {
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/#/streams");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Streams", Level = 1 })).ToBeVisibleAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        string[] expected = ["link Skip to content", "link Streams", "link Pipeline", "link Alarms", "link Settings",
            "input Name", "select Capacity mode", "input Shards", "button Create stream"];
        var stops = new List<string>();
        var unringed = new List<string>();
        for (int i = 0; i < 60 && (stops.Count == 0 || stops[^1] != expected[^1]); i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var focus = await page.EvaluateAsync<JsonElement>("""
                () => {
                  const e = document.activeElement;
                  const style = getComputedStyle(e);
                  const name = e.labels && e.labels.length ? e.labels[0].textContent : (e.getAttribute('aria-label') || e.textContent);
                  const kind = e.tagName === 'A' ? 'link' : e.tagName.toLowerCase();
                  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
                  return { stop: `${kind} ${name.trim()}`, ring };
                }
                """);
            string stop = focus.GetProperty("stop").GetString()!;
            stops.Add(stop);
            if (!focus.GetProperty("ring").GetBoolean())
                unringed.Add(stop);
        }
        // Rows of streams made by other tests may come between the form and the navigation; the order must hold.
        int at = 0;
        foreach (string stop in stops)
            if (at < expected.Length && stop == expected[at])
                at++;
        Assert.True(at == expected.Length, $"expected in this order: {string.Join(" → ", expected)}; focus went: {string.Join(" → ", stops)}");
        Assert.Equal(expected[..5], stops.Take(5));
        Assert.True(unringed.Count == 0, "focused without a visible outline or box-shadow: " + string.Join(", ", unringed));
        NoScriptErrors();
    }

    /// <summary>Runs axe (WCAG 2.0/2.1 A and AA rules) on the page as it is now; fails on any serious or critical violation,
    /// listing each rule, its impact and help and the selectors of the elements that break it.</summary>
    private static async Task AssertNoSeriousViolationsAsync(IPage page, string what)
    {
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        var result = await page.RunAxe(new AxeRunOptions { RunOnly = new RunOnlyOptions { Type = "tag", Values = [.. WcagTags] } });
        var serious = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        string report = string.Join("\n", serious.Select(v =>
            $"{v.Id} ({v.Impact}): {v.Help}\n    " + string.Join("\n    ", v.Nodes.Select(n => n.Target.ToString()))));
        await BrowserFixture.ScreenshotAsync(page, "a11y-" + what.Replace(' ', '-'));
        Assert.True(serious.Count == 0, $"{what}: {serious.Count} serious or critical axe violations:\n{report}");
    }

    private async Task<string> StreamWithRecordsAsync(string prefix)
    {
        string name = await Server.CreateStreamAsync(prefix, shards: 1);
        await Server.PutAsync(name, "k1", """{"order": 1, "item": "tea"}""");
        await Server.PutAsync(name, "k2", "plain text");
        await Server.PutAsync(name, "k3", "\u0001\u0002 binary-ish");
        return name;
    }

    /// <summary>Calls a CloudWatch operation (JSON protocol) signed in the shape Runnel checks today; throws unless it answers 200.</summary>
    private async Task CloudWatchAsync(string operation, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.0");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "GraniteServiceVersion20100801." + operation);
        request.Headers.TryAddWithoutValidation("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/monitoring/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", "20260101T000000Z");
        using var response = await Server.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{operation}: {(int)response.StatusCode} {text}");
    }
}
