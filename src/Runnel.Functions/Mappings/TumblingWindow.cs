using System.Text.Json;

namespace Runnel.Functions.Mappings;

/// <summary>
/// A shard's tumbling window (<c>TumblingWindowInSeconds</c>): windows are aligned to multiples of the size since the
/// epoch and a record belongs to the one its arrival time falls in, as Lambda bounds them by the time records entered
/// the stream. The window's state is what the function answered last (<c>{"state": {...}}</c>), given to its next
/// invocation of the window; a new window starts with <c>{}</c>. Kept with the mapping's positions so that a restart
/// goes on with it. Not thread-safe: one per shard, used by the shard's reader and the batches it runs in turn.
/// </summary>
public sealed class TumblingWindow(long sizeMillis)
{
    /// <summary>Lambda ends a window early when its state passes 1 MB.</summary>
    public const int MaxStateBytes = 1024 * 1024;

    private const string Empty = "{}";

    public long SizeMillis => sizeMillis;

    /// <summary>The open window's start (Unix milliseconds), or -1 when none is open.</summary>
    public long StartMillis { get; private set; } = -1;

    public long EndMillis => StartMillis + sizeMillis;

    /// <summary>The state so far: a JSON object's text.</summary>
    public string State { get; private set; } = Empty;

    public bool IsOpen => StartMillis >= 0;

    /// <summary>Whether the state grew past <see cref="MaxStateBytes"/>, so the window ends early.</summary>
    public bool Overflowing => System.Text.Encoding.UTF8.GetByteCount(State) > MaxStateBytes;

    /// <summary>The start of the window a record that arrived at <paramref name="arrivalMillis"/> belongs to.</summary>
    public long StartOf(long arrivalMillis) => arrivalMillis - (((arrivalMillis % sizeMillis) + sizeMillis) % sizeMillis);

    /// <summary>Opens the window starting at <paramref name="startMillis"/> with a fresh state.</summary>
    public void Open(long startMillis)
    {
        StartMillis = startMillis;
        State = Empty;
    }

    /// <summary>Puts back a window kept with the positions.</summary>
    public void Restore(long startMillis, string state)
    {
        StartMillis = startMillis;
        State = state;
    }

    /// <summary>Forgets the state, keeping the window open (after it ended early).</summary>
    public void Refresh() => State = Empty;

    public void Close()
    {
        StartMillis = -1;
        State = Empty;
    }

    /// <summary>What the next invocation of the open window carries.</summary>
    public WindowInvocation Invocation(bool final = false, bool terminatedEarly = false) => new(StartMillis, EndMillis, State, final, terminatedEarly);

    /// <summary>
    /// Takes the state from a successful invocation's answer; false when the answer has none (Lambda then counts the
    /// invocation as failed).
    /// </summary>
    public bool TakeState(byte[] answer)
    {
        try
        {
            using var document = JsonDocument.Parse(answer);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("state", out var state)
                || state.ValueKind != JsonValueKind.Object)
                return false;
            State = state.GetRawText();
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
