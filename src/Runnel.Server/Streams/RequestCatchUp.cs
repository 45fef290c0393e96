namespace Runnel.Server.Streams;

/// <summary>
/// Whether the request running on this flow has caught up with other nodes' metadata changes already: the endpoint
/// waits for that asynchronously (<see cref="StreamService.CatchUpAsync"/>) before a call that names what this node
/// does not hold, and before every control-plane call. A lookup that misses after that is a real miss; waiting once
/// more, synchronously and holding a pool thread, would only repeat the wait. Kept in an <see cref="AsyncLocal{T}"/>,
/// so that it belongs to one request's flow and never leaks into another's.
/// </summary>
internal static class RequestCatchUp
{
    private static readonly AsyncLocal<bool> CaughtUp = new();

    /// <summary>True when this flow has caught up since its request began.</summary>
    public static bool Done => CaughtUp.Value;

    /// <summary>
    /// Marks the calling flow as caught up. It must be called from a method that is not itself async (an async method's
    /// changes to an AsyncLocal are undone when it returns), so that the caller's continuation sees the mark.
    /// </summary>
    public static void Mark() => CaughtUp.Value = true;
}
