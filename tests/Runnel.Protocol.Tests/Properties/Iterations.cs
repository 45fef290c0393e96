namespace Runnel.Protocol.Tests.Properties;

/// <summary>How many inputs each property tries: <c>RUNNEL_PROPERTY_ITERATIONS</c>, 20,000 by default (CI, a few seconds);
/// millions by hand (docs/reliability.md).</summary>
internal static class Iterations
{
    public static long Count =>
        long.TryParse(Environment.GetEnvironmentVariable("RUNNEL_PROPERTY_ITERATIONS"), out long n) && n > 0 ? n : 20_000;
}
