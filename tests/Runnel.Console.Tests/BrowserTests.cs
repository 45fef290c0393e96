using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Runnel.Console.Tests;

/// <summary>The console in a real browser (Debian's chromium), against a real server: what a user does and sees.</summary>
public sealed class BrowserTests(BrowserFixture fixture) : IClassFixture<BrowserFixture>
{
    private readonly List<string> _errors = [];

    private ConsoleServer Server => fixture.Server;

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private void NoScriptErrors()
    {
        lock (_errors)
            Assert.True(_errors.Count == 0, "script errors: " + string.Join(" | ", _errors));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_signer_matches_AWS_SigV4_test_suite()
    {
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/");
        // AWS's SigV4 test suite, get-vanilla and post-vanilla: example.amazonaws.com, 20150830T123600Z, service "service".
        var results = await page.EvaluateAsync<string[]>("""
            async () => {
              const { sign } = await import('/console/sigv4.js');
              const base = { host: 'example.amazonaws.com', path: '/', region: 'us-east-1', service: 'service', accessKey: 'AKIDEXAMPLE',
                             secretKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', date: new Date(Date.UTC(2015, 7, 30, 12, 36, 0)) };
              return [sign({ ...base, method: 'GET' }).authorization, sign({ ...base, method: 'POST' }).authorization];
            }
            """);
        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", results[0]);
        Assert.Equal("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b", results[1]);
        NoScriptErrors();
    }

    [Fact(Timeout = 120_000)]
    public async Task A_stream_created_in_the_console_shows_its_records_in_the_data_viewer_and_follows_new_ones()
    {
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/");
        await RecordFirstPaintAsync(page, "streams");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Streams", Level = 1 })).ToBeVisibleAsync();
        string name = ConsoleServer.UniqueName("ui");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Shards").FillAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create stream" }).ClickAsync();
        var row = page.Locator($"#streams tr[data-stream='{name}']");
        await Expect(row).ToBeVisibleAsync();
        await Expect(row.Locator("td").Nth(3)).ToHaveTextAsync("2");
        await BrowserFixture.ScreenshotAsync(page, "streams");

        await row.GetByRole(AriaRole.Link, new() { Name = name }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = name, Level = 1 })).ToBeVisibleAsync();
        await page.GetByLabel("Partition key").FillAsync("same-key");
        await page.GetByLabel("Data (text, sent as UTF-8)").FillAsync("""{"order": 1, "item": "tea"}""");
        await page.GetByRole(AriaRole.Button, new() { Name = "Put record" }).ClickAsync();
        await Expect(page.Locator("#put-record [role=status]")).ToContainTextAsync("Stored in shardId-");
        string shard = Regex.Match(await page.Locator("#put-record [role=status]").InnerTextAsync(), "shardId-[0-9]+").Value;
        await Server.PutAsync(name, "same-key", "plain text from the API");

        await page.GetByRole(AriaRole.Link, new() { Name = "View records" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Records of {name}", Level = 1 })).ToBeVisibleAsync();
        await page.GetByLabel("Shard", new() { Exact = true }).SelectOptionAsync(shard);
        await page.GetByRole(AriaRole.Button, new() { Name = "Read", Exact = true }).ClickAsync();
        var records = page.Locator("#records tbody tr");
        await Expect(records).ToHaveCountAsync(2);
        await Expect(records.Nth(0)).ToContainTextAsync("same-key");
        await Expect(records.Nth(0).Locator("pre")).ToHaveTextAsync("""{"order": 1, "item": "tea"}""");
        await Expect(records.Nth(1).Locator("pre")).ToHaveTextAsync("plain text from the API");
        await Expect(records.Nth(0).Locator("td").Nth(2)).ToHaveTextAsync(new Regex("^[0-9]{20,}$"));
        await Expect(records.Nth(0).Locator("td").Nth(3)).ToHaveTextAsync(new Regex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$"));

        await page.GetByLabel("Show data as").SelectOptionAsync("json");
        await Expect(records.Nth(0).Locator("pre")).ToHaveTextAsync("{\n  \"order\": 1,\n  \"item\": \"tea\"\n}");
        await Expect(records.Nth(1).Locator("pre")).ToContainTextAsync("(not JSON)");
        await page.GetByLabel("Show data as").SelectOptionAsync("hex");
        await Expect(records.Nth(0).Locator("pre")).ToContainTextAsync("00000000  7b 22 6f 72 64 65 72 22");
        await page.GetByLabel("Show data as").SelectOptionAsync("text");

        await page.GetByRole(AriaRole.Button, new() { Name = "Follow" }).ClickAsync();
        await Expect(page.Locator("#follow")).ToHaveAttributeAsync("aria-pressed", "true");
        await Server.PutAsync(name, "same-key", "a record that arrived while following");
        await Expect(records).ToHaveCountAsync(3, new() { Timeout = 15_000 });
        await Expect(records.Nth(2).Locator("pre")).ToHaveTextAsync("a record that arrived while following");
        await BrowserFixture.ScreenshotAsync(page, "data-viewer");

        // From a sequence number: AT the second record's.
        string second = await records.Nth(1).Locator("td").Nth(2).InnerTextAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Following (stop)" }).ClickAsync();
        await page.GetByLabel("Start at").SelectOptionAsync("AT_SEQUENCE_NUMBER");
        await page.GetByLabel("Sequence number").FillAsync(second);
        await page.GetByRole(AriaRole.Button, new() { Name = "Read", Exact = true }).ClickAsync();
        await Expect(records).ToHaveCountAsync(2);
        await Expect(records.Nth(0).Locator("pre")).ToHaveTextAsync("plain text from the API");
        NoScriptErrors();
    }

    [Fact(Timeout = 120_000)]
    public async Task The_stream_page_charts_the_last_hour_and_draws_the_lineage_after_a_reshard()
    {
        string name = await Server.CreateStreamAsync("chart", shards: 1);
        for (int i = 0; i < 5; i++)
            await Server.PutAsync(name, "k" + i, "record " + i);
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync($"/#/streams/{name}");
        await RecordFirstPaintAsync(page, "stream");
        var points = page.Locator("#charts figure[data-metric='IncomingRecords'] circle.point");
        await Expect(points.First).ToBeVisibleAsync(new() { Timeout = 20_000 });
        Assert.Contains("latest 5", await page.Locator("#charts figure[data-metric='IncomingRecords'] svg").GetAttributeAsync("aria-label"), StringComparison.Ordinal);
        await Expect(page.Locator("#lineage g.shard")).ToHaveCountAsync(1);

        await page.GetByLabel("Target shard count").FillAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Update shard count" }).ClickAsync();
        await Expect(page.Locator("#lineage g.shard")).ToHaveCountAsync(3, new() { Timeout = 20_000 });
        await Expect(page.Locator("#lineage g.shard.closed")).ToHaveCountAsync(1);
        await Expect(page.Locator("#lineage path.edge")).ToHaveCountAsync(2);
        await Expect(page.Locator("#shards tbody tr")).ToHaveCountAsync(3);
        await BrowserFixture.ScreenshotAsync(page, "stream");
        NoScriptErrors();
    }

    [Fact(Timeout = 120_000)]
    public async Task Per_shard_rates_show_once_shard_level_metrics_are_enabled()
    {
        string name = await Server.CreateStreamAsync("shardrates", shards: 1);
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync($"/#/streams/{name}");
        await page.GetByLabel("Metrics", new() { Exact = true }).SelectOptionAsync("IncomingRecords");
        await page.GetByRole(AriaRole.Button, new() { Name = "Enable" }).ClickAsync();
        await Expect(page.Locator("dl.summary div", new() { HasText = "Shard-level metrics" })).ToContainTextAsync("IncomingRecords");
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                await Server.PutAsync(name, "k" + i, "rate " + i);
                await Task.Delay(100);
            }
        });
        try
        {
            // Measured by the page between two reads of /metrics, 5 s apart.
            await Expect(page.Locator("#shards tbody tr").First.Locator("td").Nth(5)).ToHaveTextAsync(new Regex(@"^[1-9][0-9.]*$|^0\.[0-9]*[1-9]"), new() { Timeout = 30_000 });
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }
        NoScriptErrors();
    }

    [Fact(Timeout = 120_000)]
    public async Task Streams_are_managed_from_the_console_and_the_services_errors_shown_as_written()
    {
        string name = await Server.CreateStreamAsync("managed", shards: 1);
        var page = await fixture.NewPageAsync(_errors);
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        await page.GotoAsync("/#/streams");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create stream" }).ClickAsync();
        await Expect(page.Locator("form", new() { HasText = "Create a stream" }).Locator(".error")).ToHaveTextAsync(
            new Regex($"^ResourceInUseException: Stream {name} under account 000000000000 already exists\\.?$"));

        await page.GotoAsync($"/#/streams/{name}");
        await page.GetByLabel("Retention (hours)").FillAsync("48");
        await page.GetByRole(AriaRole.Button, new() { Name = "Change retention" }).ClickAsync();
        await Expect(page.Locator("dl.summary div", new() { HasText = "Retention" })).ToContainTextAsync("48 h");
        await page.GetByLabel("Target shard count").FillAsync("5"); // more than double: refused by the service
        await page.GetByRole(AriaRole.Button, new() { Name = "Update shard count" }).ClickAsync();
        await Expect(page.Locator("section", new() { HasText = "Change the stream" }).Locator(".error")).ToHaveTextAsync("LimitExceededException: UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 1, Target shard count: 5");

        await page.GetByRole(AriaRole.Button, new() { Name = "Delete stream" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Streams", Level = 1 })).ToBeVisibleAsync();
        await Expect(page.Locator($"#streams tr[data-stream='{name}']")).ToHaveCountAsync(0, new() { Timeout = 15_000 });
        NoScriptErrors();
    }

    [Fact(Timeout = 120_000)]
    public async Task The_pipeline_map_shows_a_stream_and_its_consumer_and_moves_when_records_arrive()
    {
        string name = await Server.CreateStreamAsync("map", shards: 1);
        string arn = (await Server.KinesisAsync("DescribeStreamSummary", new { StreamName = name })).GetProperty("StreamDescriptionSummary").GetProperty("StreamARN").GetString()!;
        string consumer = ConsoleServer.UniqueName("app");
        await Server.KinesisAsync("RegisterStreamConsumer", new { StreamARN = arn, ConsumerName = consumer });
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/#/pipeline");
        await RecordFirstPaintAsync(page, "pipeline");
        var stream = page.Locator($"#map g.node[data-node='stream:{name}']");
        await Expect(stream).ToBeVisibleAsync();
        await Expect(page.Locator("#map g.node", new() { HasText = consumer })).ToBeVisibleAsync();
        await Expect(page.Locator($"#map g.link[data-from='stream:{name}']")).ToHaveCountAsync(1);
        var into = page.Locator($"#map g.link[data-to='stream:{name}']");
        string before = await into.CountAsync() == 0 ? "" : await into.First.InnerTextAsync();
        for (int i = 0; i < 20; i++)
            await Server.PutAsync(name, "k" + i, "moving " + i);
        // The edge into the stream appears (or its rate changes) on the next refresh.
        await Expect(into.First).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(into.First).Not.ToHaveTextAsync(before.Length == 0 ? "\u0000" : before, new() { Timeout = 20_000 });
        await Expect(into.First).ToContainTextAsync("rec/s");
        await Expect(page.Locator("#edges tbody tr", new() { HasText = consumer })).ToBeVisibleAsync();
        await BrowserFixture.ScreenshotAsync(page, "pipeline");
        NoScriptErrors();
    }

    [Fact(Timeout = 60_000)]
    public async Task The_pipeline_map_draws_Runnels_pipeline_view_and_marks_what_lags_or_fails_in_words()
    {
        // GET /console/api/pipeline as agreed for issue 17, answered here by the test so that the page's side of the
        // contract is checked whether or not this server serves the view yet.
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string view = $$"""
            { "at": {{now}},
              "streams": [ { "name": "orders", "status": "ACTIVE", "incomingRecordsPerSecond": 12.5, "incomingBytesPerSecond": 1234.0,
                             "outgoingRecordsPerSecond": 3.0, "errorsPerMinute": 0,
                             "producers": [ { "client": "AKIAEXAMPLE boto3/1.26", "accessKey": "AKIAEXAMPLE", "userAgent": "Boto3/1.26", "recordsPerSecond": 12.5, "errorsPerMinute": 0, "lastSeen": {{now}} },
                                            { "client": "AKIAREFUSED aws-sdk-js/3", "accessKey": "AKIAREFUSED", "userAgent": "aws-sdk-js/3", "recordsPerSecond": 1.0, "errorsPerMinute": 12, "lastSeen": {{now}} } ],
                             "consumers": [ { "kind": "consumer", "name": "billing", "client": "KCL", "recordsPerSecond": 2.0, "millisBehind": 0, "recordsBehind": 0, "errorsPerMinute": 0, "reading": true, "lastSeen": {{now}} },
                                            { "kind": "consumer", "name": "refused-app", "client": "", "recordsPerSecond": 0.0, "millisBehind": 0, "recordsBehind": 0, "errorsPerMinute": 2, "reading": false },
                                            { "kind": "iterator", "name": "slow-app", "client": "boto3", "recordsPerSecond": 1.0, "millisBehind": 180000, "recordsBehind": 900, "errorsPerMinute": 0, "lastSeen": {{now}} },
                                            { "kind": "delivery", "name": "to-s3", "client": "firehose", "recordsPerSecond": 1.0, "millisBehind": 5000, "recordsBehind": 40, "errorsPerMinute": 0, "lastSeen": {{now}} } ] } ],
              "deliveryStreams": [ { "name": "to-s3", "status": "ACTIVE", "source": "orders", "destination": "S3", "incomingRecordsPerSecond": 1.0, "deliveredRecordsPerSecond": 1.0, "freshnessSeconds": 3, "errorsPerMinute": 0 },
                                   { "name": "direct-http", "status": "ACTIVE", "source": null, "destination": "HttpEndpoint", "incomingRecordsPerSecond": 4.0, "deliveredRecordsPerSecond": 0.0, "freshnessSeconds": 40, "errorsPerMinute": 6 } ] }
            """;
        var page = await fixture.NewPageAsync(_errors);
        await page.RouteAsync("**/console/api/pipeline", route => route.FulfillAsync(new() { Status = 200, ContentType = "application/json", Body = view }));
        await page.GotoAsync("/#/pipeline");
        await Expect(page.Locator("#map-source")).ToContainTextAsync("pipeline view");
        await Expect(page.Locator("#map g.node[data-node='producer:AKIAEXAMPLE boto3/1.26']")).ToBeVisibleAsync();
        await Expect(page.Locator("#map g.link[data-from='producer:AKIAEXAMPLE boto3/1.26'][data-to='stream:orders']")).ToContainTextAsync("12.5 rec/s");
        await Expect(page.Locator("#map g.node[data-node='delivery:to-s3']")).ToBeVisibleAsync();
        await Expect(page.Locator("#map g.link[data-from='stream:orders'][data-to='delivery:to-s3']")).ToHaveCountAsync(1); // drawn once, not also as a consumer
        await Expect(page.Locator("#map g.link[data-from='stream:orders'][data-to='delivery:to-s3']")).ToContainTextAsync("lag 5 s"); // its lag behind the stream
        await Expect(page.Locator("#map g.node[data-node='producer:direct']")).ToContainTextAsync("Direct PUT");
        var slow = page.Locator("#map g.link.bad[data-to='consumer:orders/iterator/slow-app']");
        await Expect(slow).ToContainTextAsync("⚠");
        await Expect(slow).ToContainTextAsync("lag 3 min");
        await Expect(page.Locator("#map g.node.bad[data-node='consumer:orders/iterator/slow-app']")).ToContainTextAsync("slow: 3 min behind");
        await Expect(page.Locator("#map g.link.bad[data-to='destination:direct-http']")).ToContainTextAsync("6.00 err/min");
        await Expect(page.Locator("#map g.node.bad[data-node='destination:direct-http']")).ToContainTextAsync("failing");
        // A producer whose records the stream refuses: the edge and the producer are marked, not the stream.
        await Expect(page.Locator("#map g.link.bad[data-from='producer:AKIAREFUSED aws-sdk-js/3']")).ToContainTextAsync("12.0 err/min");
        await Expect(page.Locator("#map g.node.bad[data-node='producer:AKIAREFUSED aws-sdk-js/3']")).ToContainTextAsync("failing");
        await Expect(page.Locator("#map g.node.bad[data-node='stream:orders']")).ToHaveCountAsync(0);
        // A consumer whose subscriptions are refused: failing, and not reading.
        await Expect(page.Locator("#map g.link.bad[data-to='consumer:orders/consumer/refused-app']")).ToContainTextAsync("err/min");
        await Expect(page.Locator("#map g.node.bad[data-node='consumer:orders/consumer/refused-app'] title")).ToHaveTextAsync("refused-app, consumer, not reading: failing: 2.00 errors/min");
        await Expect(page.Locator("#map g.link.bad")).ToHaveCountAsync(4);
        await Expect(page.Locator("#edges tbody tr.bad")).ToHaveCountAsync(4);
        await Expect(page.Locator("#edges tbody tr", new() { HasText = "billing" })).ToContainTextAsync("OK");
        await BrowserFixture.ScreenshotAsync(page, "pipeline-view");
        NoScriptErrors();
    }

    [Fact(Timeout = 120_000)]
    public async Task The_alarms_view_creates_an_alarm_raises_it_and_shows_its_history()
    {
        string stream = await Server.CreateStreamAsync("alarmed", shards: 1);
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/#/alarms");
        await RecordFirstPaintAsync(page, "alarms");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Alarms", Level = 1 })).ToBeVisibleAsync();
        string alarm = ConsoleServer.UniqueName("too-quiet");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(alarm);
        await page.Locator("#create-alarm").GetByLabel("Stream").SelectOptionAsync(stream);
        await page.GetByLabel("Threshold").FillAsync("1000");
        await page.GetByLabel("Missing data").SelectOptionAsync("ignore"); // a minute's evaluation keeps the state set by hand below
        await page.GetByRole(AriaRole.Button, new() { Name = "Create alarm" }).ClickAsync();
        try
        {
            await Expect(page.Locator("#create-alarm-result")).ToHaveTextAsync($"Created {alarm}.");
            var row = page.Locator($"#alarms tr[data-alarm='{alarm}']");
            await Expect(row).ToBeVisibleAsync();
            await page.Locator("#set-state").GetByLabel("Alarm").SelectOptionAsync(alarm);
            await page.Locator("#set-state").GetByLabel("State").SelectOptionAsync("ALARM");
            await page.GetByRole(AriaRole.Button, new() { Name = "Set state" }).ClickAsync();
            await Expect(row).ToHaveAttributeAsync("data-state", "ALARM");
            await Expect(row.Locator(".state")).ToHaveTextAsync("ALARM"); // in words, not colour alone
            await row.GetByRole(AriaRole.Button, new() { Name = $"History of {alarm}" }).ClickAsync();
            await Expect(page.Locator("#history tbody tr", new() { HasText = "StateUpdate" }).First).ToBeVisibleAsync();

            // A percentile alarm is made as one (ExtendedStatistic) and shown with its percentile.
            string slow = ConsoleServer.UniqueName("slow-puts");
            await page.GetByLabel("Name", new() { Exact = true }).FillAsync(slow);
            await page.Locator("#create-alarm").GetByLabel("Stream").SelectOptionAsync(stream);
            await page.Locator("#create-alarm").GetByLabel("Statistic").SelectOptionAsync("p99");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create alarm" }).ClickAsync();
            await Expect(page.Locator("#create-alarm-result")).ToHaveTextAsync($"Created {slow}.");
            await Expect(page.Locator($"#alarms tr[data-alarm='{slow}']")).ToContainTextAsync("p99 of AWS/Kinesis");
        }
        finally
        {
            await BrowserFixture.ScreenshotAsync(page, "alarms");
        }
        NoScriptErrors();
    }

    [Fact(Timeout = 60_000)]
    public async Task The_keyboard_alone_reaches_the_main_navigation_and_every_field_has_a_label()
    {
        var page = await fixture.NewPageAsync(_errors);
        await page.GotoAsync("/#/streams");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Streams", Level = 1 })).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await page.EvaluateAsync<string>("document.activeElement.textContent"));
        string focused = "";
        for (int i = 0; i < 6 && focused != "Pipeline"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            focused = await page.EvaluateAsync<string>("document.activeElement.closest('nav[aria-label=Main]') ? document.activeElement.textContent : ''");
        }
        Assert.Equal("Pipeline", focused);
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Pipeline", Level = 1 })).ToBeFocusedAsync();
        await Expect(page.Locator("nav a[aria-current=page]")).ToHaveTextAsync("Pipeline");
        string name = await Server.CreateStreamAsync("labels", shards: 1);
        foreach (string route in new[] { "#/streams", $"#/streams/{name}", $"#/streams/{name}/data", "#/alarms", "#/settings" })
        {
            await page.GotoAsync("/" + route);
            await Expect(page.Locator("main h1")).ToBeVisibleAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            var unlabelled = await page.EvaluateAsync<string[]>("""
                [...document.querySelectorAll('main input, main select, main textarea')]
                  .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.name || e.outerHTML)
                """);
            Assert.True(unlabelled.Length == 0, $"{route}: fields without a label: {string.Join(", ", unlabelled)}");
        }
        NoScriptErrors();
    }

    /// <summary>First contentful paint of the page just loaded, appended to artifacts/console/timings.txt (never asserted).</summary>
    private static async Task RecordFirstPaintAsync(IPage page, string what)
    {
        await page.WaitForFunctionAsync("performance.getEntriesByName('first-contentful-paint').length > 0");
        double fcp = await page.EvaluateAsync<double>("performance.getEntriesByName('first-contentful-paint')[0].startTime");
        await File.AppendAllTextAsync(Path.Combine(BrowserFixture.Artifacts, "timings.txt"),
            string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:O} first-contentful-paint {what}: {fcp:0.0} ms\n"));
    }
}
