using System.Globalization;
using CsCheck;
using Microsoft.AspNetCore.Http;
using Runnel.Core.Errors;
using Runnel.Server.Auth;

namespace Runnel.Server.Tests;

/// <summary>
/// Bad input at scale for SigV4 parsing under <c>--auth sigv4</c>: any Authorization header, X-Amz-Date and presigned
/// query, random or a valid one mutated, is answered with one of AWS's errors (<see cref="KinesisException"/>) or
/// accepted only when it is the valid one; nothing else is thrown. Iterations: <c>RUNNEL_PROPERTY_ITERATIONS</c>
/// (20,000 by default; millions by hand, docs/reliability.md).
/// </summary>
public sealed class SignatureParsingProperties : IDisposable
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string Valid = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-sigv4-props-" + Guid.NewGuid().ToString("N"));
    private readonly SigV4Verifier _verifier;

    private static long Iterations =>
        long.TryParse(Environment.GetEnvironmentVariable("RUNNEL_PROPERTY_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 ? n : 20_000;

    public SignatureParsingProperties()
    {
        Directory.CreateDirectory(_dir);
        string file = Path.Combine(_dir, "credentials");
        File.WriteAllText(file, $"[example]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = {Secret}\n");
        var clock = new ManualClock(new DateTimeOffset(2015, 8, 30, 12, 36, 0, TimeSpan.Zero));
        _verifier = new SigV4Verifier(new CredentialStore(file, clock, _ => { }), clock);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Checks a GET as the endpoint does; true when accepted, false when refused with AWS's error.</summary>
    private bool Accepted(string? authorization, string? date, string query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Path = "/";
        context.Request.Headers.Host = "example.amazonaws.com";
        if (query.Length > 0)
            context.Request.QueryString = new QueryString("?" + query);
        if (authorization is not null)
            context.Request.Headers.Authorization = authorization;
        if (date is not null)
            context.Request.Headers["X-Amz-Date"] = date;
        try
        {
            Kinesis.Authentication.Check(context.Request);
            _verifier.Verify(context.Request, ReadOnlySpan<byte>.Empty);
            return true;
        }
        catch (KinesisException)
        {
            return false;
        }
    }

    private static string Mutate(string text, (int Kind, int At, char Value)[] edits)
    {
        var chars = new List<char>(text);
        foreach (var (kind, at, value) in edits)
        {
            int position = chars.Count == 0 ? 0 : (int)((uint)at % (uint)chars.Count);
            switch (kind)
            {
                case 0 when chars.Count > 0: chars[position] = value; break;
                case 1: chars.Insert(position, value); break;
                case 2 when chars.Count > 0: chars.RemoveAt(position); break;
                case 3: chars.RemoveRange(position, chars.Count - position); break;
            }
        }
        return new string([.. chars]);
    }

    [Fact]
    public void The_valid_signature_is_accepted() => Assert.True(Accepted(Valid, "20150830T123600Z", ""));

    [Fact]
    public void Any_mutated_or_random_header_is_refused_with_AWSs_errors_and_nothing_else() =>
        Gen.Select(
            Gen.Frequency((3, Gen.Select(Gen.Select(Gen.Int[0, 3], Gen.Int, Gen.Char[' ', '~']).Array[1, 6], edits => Mutate(Valid, edits))), (1, Gen.String[Gen.Char, 0, 300])),
            Gen.Frequency((4, Gen.Const("20150830T123600Z")), (1, Gen.String[Gen.Char, 0, 20]), (1, Gen.Const((string)null!))),
            (authorization, date) => (authorization, date)).Sample(t =>
        {
            if (Accepted(t.authorization, t.date, ""))
                Assert.True(t.authorization == Valid || IsSpacingVariant(t.authorization), $"accepted: {t.authorization} / {t.date}");
        }, iter: Iterations);

    /// <summary>A header that differs from the valid one only in separators the grammar allows (spaces, commas).</summary>
    private static bool IsSpacingVariant(string header) =>
        string.Concat(header.Where(c => c is not (' ' or ','))) == string.Concat(Valid.Where(c => c is not (' ' or ',')));

    [Fact]
    public void Any_presigned_query_is_refused_with_AWSs_errors_and_nothing_else() =>
        Gen.Select(Gen.String[Gen.Char[' ', '~'], 0, 60], Gen.String[Gen.Char[' ', '~'], 0, 30], Gen.String[Gen.Char[' ', '~'], 0, 20], Gen.String[Gen.Char[' ', '~'], 0, 8],
            (credential, signed, date, expires) =>
                $"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={Uri.EscapeDataString(credential)}&X-Amz-SignedHeaders={Uri.EscapeDataString(signed)}" +
                $"&X-Amz-Date={Uri.EscapeDataString(date)}&X-Amz-Expires={Uri.EscapeDataString(expires)}&X-Amz-Signature=00").Sample(query =>
            Assert.False(Accepted(null, null, query)), iter: Iterations);
}
