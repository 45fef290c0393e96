using System.Globalization;

namespace Runnel.Firehose.Naming;

/// <summary>
/// The suffix Firehose gives a delivered object after its evaluated prefix (AWS's "S3 object name format" page):
/// <c>{delivery stream}-{version}-{yyyy}-{MM}-{dd}-{HH}-{mm}-{ss}-{uuid}{extension}</c>, the version being the delivery
/// stream's configuration version (1, raised by each change). The time is the instant the prefix's timestamps are
/// evaluated at (the oldest record's approximate arrival), in the destination's time zone, so that an object's name
/// and its prefix agree. Stateless and thread-safe.
/// </summary>
public static class ObjectName
{
    public static string Suffix(string deliveryStream, long version, DateTimeOffset instant, Guid id, string extension) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{deliveryStream}-{version}-{instant:yyyy'-'MM'-'dd'-'HH'-'mm'-'ss}-{id:D}{extension}");
}
