namespace Runnel.Firehose.Delivery;

/// <summary>A loop's "something changed" signal: a semaphore of one, set any number of times, taken by one wait.</summary>
internal static class Wakeup
{
    /// <summary>Sets <paramref name="signal"/> unless it is set already (a race between two setters is harmless).</summary>
    public static void Set(SemaphoreSlim signal)
    {
        if (signal.CurrentCount != 0)
            return;
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }
}
