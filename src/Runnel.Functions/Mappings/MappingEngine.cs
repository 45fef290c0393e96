using Runnel.Functions.Catalog;

namespace Runnel.Functions.Mappings;

/// <summary>
/// Keeps one <see cref="MappingPoller"/> running per enabled event-source mapping, on the node that leads (so that a
/// cluster gives each batch once): every second it starts the pollers of new or changed mappings, stops those of
/// mappings disabled, deleted or changed, and forgets the positions of deleted ones. Thread-safe.
/// </summary>
public sealed class MappingEngine : IAsyncDisposable
{
    private readonly EventSourceMappingCatalog _catalog;
    private readonly MappingContext _context;
    private readonly Func<bool> _leads;
    private readonly Dictionary<string, (ulong Revision, CancellationTokenSource Stop, Task Running)> _running = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private readonly IFailureDestinations? _destinations;

    public MappingEngine(EventSourceMappingCatalog catalog, MappingContext context, Func<bool>? leads = null, IFailureDestinations? destinations = null)
    {
        _destinations = destinations;
        _catalog = catalog;
        _context = context;
        _leads = leads ?? (() => true);
        _loop = Task.Run(() => LoopAsync(_stop.Token));
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await SyncAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                _context.Warn($"The event-source mappings could not be brought up to date ({e.Message}); tried again in a second.");
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _context.Clock, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Starts and stops pollers to match the catalog (all stopped where this node does not lead).</summary>
    public async Task SyncAsync()
    {
        var wanted = _leads() ? _catalog.All().Where(m => m.Enabled).ToDictionary(m => m.Uuid) : [];
        foreach (var (uuid, poller) in _running.ToList())
        {
            if (wanted.TryGetValue(uuid, out var mapping) && mapping.Revision == poller.Revision && !poller.Running.IsCompleted)
                continue;
            if (poller.Running.IsFaulted)
                _context.Warn($"The event-source mapping {uuid} stopped with an error ({poller.Running.Exception?.InnerException?.Message}); it is started again.");
            await StopAsync(uuid).ConfigureAwait(false);
            if (_catalog.Find(uuid) is null && _leads())
                MappingPositions.Delete(_context.Metadata, uuid);
        }
        foreach (var (uuid, mapping) in wanted)
        {
            if (_running.ContainsKey(uuid))
                continue;
            var stop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var poller = new MappingPoller(mapping, _context, _destinations);
            _running[uuid] = (mapping.Revision, stop, Task.Run(() => poller.RunAsync(stop.Token)));
        }
    }

    private async Task StopAsync(string uuid)
    {
        var (_, stop, running) = _running[uuid];
        _running.Remove(uuid);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await running.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        stop.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        foreach (string uuid in _running.Keys.ToList())
            await StopAsync(uuid).ConfigureAwait(false);
        _stop.Dispose();
    }
}
