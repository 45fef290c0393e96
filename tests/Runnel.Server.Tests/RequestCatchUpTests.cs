using System.Reflection;
using Runnel.Server.Streams;
using Runnel.Storage.Log;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Tests;

/// <summary>
/// A request that caught up with other nodes' metadata asynchronously (as the endpoint does before a call naming
/// what this node does not hold) does not wait again, synchronously, when its lookup then misses; a request that did
/// not catch up still does; and one request's mark never reaches another's.
/// </summary>
public sealed class RequestCatchUpTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "runnel-catchup-" + Guid.NewGuid().ToString("N"));
    private readonly MetadataStore _inner;
    private readonly LogStore _store;
    private readonly StreamService _streams;
    private readonly CountingMetadata _counting;

    public RequestCatchUpTests()
    {
        _inner = new MetadataStore(_dir);
        _store = new LogStore(_dir, new LogOptions { Fsync = FsyncPolicy.Never });
        var metadata = DispatchProxy.Create<IMetadataStore, CountingMetadata>();
        _counting = (CountingMetadata)(object)metadata;
        _counting.Inner = _inner;
        _streams = new StreamService(new RunnelOptions { DataDir = _dir }, metadata, _store, TimeProvider.System);
    }

    public void Dispose()
    {
        _streams.Dispose();
        _store.Dispose();
        _inner.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact(Timeout = 20000)]
    public async Task A_miss_after_an_asynchronous_catch_up_does_not_wait_again()
    {
        await Task.Run(async () =>
        {
            await _streams.CatchUpAsync();
            await Task.Yield(); // the mark survives a hop to another thread
            Assert.Null(_streams.Find("created-nowhere"));
        });
        Assert.Equal(1, _counting.AsyncCatchUps);
        Assert.Equal(0, _counting.SyncCatchUps);
    }

    [Fact(Timeout = 20000)]
    public async Task A_miss_without_one_catches_up_and_marks_do_not_leak_between_requests()
    {
        var caughtUp = Task.Run(async () => await _streams.CatchUpAsync()); // another request, which caught up
        await caughtUp;
        await Task.Run(() => Assert.Null(_streams.Find("created-nowhere"))); // this request did not
        Assert.Equal(1, _counting.SyncCatchUps);
        Assert.False(RequestCatchUpProbe());
    }

    private static bool RequestCatchUpProbe() => RequestCatchUp.Done;

    /// <summary>The real store, counting catch-ups and claiming to be shared, as a cluster's store is.</summary>
    public class CountingMetadata : DispatchProxy
    {
        public IMetadataStore Inner { get; set; } = null!;

        public int SyncCatchUps;
        public int AsyncCatchUps;

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            switch (targetMethod!.Name)
            {
                case "get_Shared":
                    return true;
                case nameof(IMetadataStore.CatchUp):
                    Interlocked.Increment(ref SyncCatchUps);
                    return true;
                case nameof(IMetadataStore.CatchUpAsync):
                    Interlocked.Increment(ref AsyncCatchUps);
                    return ValueTask.FromResult(true);
            }
            try
            {
                return targetMethod.Invoke(Inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is { } inner)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(inner).Throw();
                throw;
            }
        }
    }
}
