using System.Globalization;
using System.Text.Json;
using Runnel.Storage.Metadata;

namespace Runnel.Firehose.Delivery;

/// <summary>
/// How far a delivery stream has delivered its source, per part of the source (0 for a DirectPut log, the shard
/// index for a Kinesis stream): every record below the position was delivered (or sent to the error output).
/// Kept as a metadata document of kind <see cref="Kind"/> under the delivery stream's name, written with
/// compare-and-set (docs/formats/firehose.md). Not thread-safe: owned by the delivery stream's worker.
/// </summary>
public sealed class DeliveryPosition
{
    public const string Kind = "delivery-position";

    private readonly IMetadataStore _store;
    private readonly string _kind;
    private readonly string _deliveryStream;
    private readonly Dictionary<int, ulong> _positions;
    private ulong _revision;

    private DeliveryPosition(IMetadataStore store, string kind, string deliveryStream, Dictionary<int, ulong> positions, ulong revision)
    {
        _store = store;
        _kind = kind;
        _deliveryStream = deliveryStream;
        _positions = positions;
        _revision = revision;
    }

    /// <summary>
    /// The position as stored (nothing delivered yet when none is). A stored position that cannot be read (a damaged
    /// document) is taken as none, with a warning: delivery starts again from the oldest record its source still holds,
    /// so records may be delivered twice (Firehose delivers at least once) but none is skipped; the next advance
    /// replaces the document.
    /// </summary>
    /// <param name="kind">The documents' kind: <see cref="Kind"/> for delivery streams (keyed by name); channels keep theirs apart (keyed by id).</param>
    public static DeliveryPosition Load(IMetadataStore store, string deliveryStream, string kind = Kind, Action<string>? warn = null)
    {
        var stored = store.ReadDocument(kind, deliveryStream);
        Dictionary<int, ulong> positions = [];
        if (stored is not null)
        {
            try
            {
                positions = Decode(stored.Body);
            }
            catch (InvalidDataException e)
            {
                warn?.Invoke($"The delivery position of {deliveryStream} cannot be read ({e.Message}); its delivery starts again from the oldest record "
                    + "its source still holds, so records delivered before may be delivered again.");
            }
        }
        return new DeliveryPosition(store, kind, deliveryStream, positions, stored?.Revision ?? 0);
    }

    /// <summary>Where reading <paramref name="source"/> starts again after a restart.</summary>
    public ulong Of(int source) => _positions.GetValueOrDefault(source);

    /// <summary>Whether a position of <paramref name="source"/> is stored (a Kinesis shard never read has none).</summary>
    public bool Has(int source) => _positions.ContainsKey(source);

    /// <summary>Records every source of <paramref name="positions"/> as delivered below its position (none moving back),
    /// in one write when any moved.</summary>
    public void AdvanceAll(IReadOnlyDictionary<int, ulong> positions)
    {
        bool moved = false;
        foreach (var (source, position) in positions)
        {
            if (_positions.TryGetValue(source, out ulong held) && position <= held)
                continue;
            _positions[source] = position;
            moved = true;
        }
        if (moved)
            _revision = _store.WriteDocument(_kind, _deliveryStream, Encode(_positions), _revision).Revision;
    }

    /// <summary>
    /// Records <paramref name="source"/> as delivered below <paramref name="position"/> (never moving back); stores the
    /// change. A conflict means another node delivers this stream too, which the elected node's ownership rules out:
    /// it is thrown, not resolved.
    /// </summary>
    public void Advance(int source, ulong position)
    {
        if (position <= Of(source))
            return;
        _positions[source] = position;
        _revision = _store.WriteDocument(_kind, _deliveryStream, Encode(_positions), _revision).Revision;
    }

    private static byte[] Encode(Dictionary<int, ulong> positions)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("sources");
            foreach (var (source, position) in positions.OrderBy(p => p.Key))
                json.WriteString(source.ToString(CultureInfo.InvariantCulture), position.ToString(CultureInfo.InvariantCulture));
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static Dictionary<int, ulong> Decode(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var positions = new Dictionary<int, ulong>();
            foreach (var source in json.RootElement.GetProperty("sources").EnumerateObject())
                positions[int.Parse(source.Name, NumberStyles.None, CultureInfo.InvariantCulture)] =
                    ulong.Parse(source.Value.GetString() ?? "", NumberStyles.None, CultureInfo.InvariantCulture);
            return positions;
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"The {Kind} document is not a position ({e.Message}).", e);
        }
    }
}
