using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Runnel.Storage;
using Runnel.Storage.JetStream;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Storage;

/// <summary>
/// A stateless node's storage: every shard log and all metadata in a NATS JetStream cluster
/// (docs/adr/0001-kinesis-on-jetstream.md), reached through one connection that this class owns, and the lease
/// that elects the node doing the once-only work. Nothing is kept on this node's disk.
/// </summary>
public sealed class ClusterStorage : ServerStorage
{
    /// <summary>The key-value bucket of the metadata.</summary>
    public const string MetadataBucket = "runnel_meta";

    /// <summary>The key-value bucket of SubscribeToShard's holders (<see cref="JetStreamSubscriptionClaims"/>).</summary>
    public const string SubscriptionBucket = "runnel_subscriptions";

    /// <summary>The key-value bucket of the elected node's lease.</summary>
    public const string LeaderBucket = "runnel_leader";

    /// <summary>How long an elected node that stops renewing keeps the lease before another may take it.</summary>
    public static readonly TimeSpan LeaseLength = TimeSpan.FromSeconds(5);

    /// <summary>The smallest <c>max_payload</c> of the NATS servers that holds the largest append (a 10 MiB record and its framing).</summary>
    public const int RequiredMaxPayload = 16 * 1024 * 1024;

    private readonly NatsConnection _connection;
    private readonly JetStreamMetadataStore _metadata;
    private readonly JetStreamShardStore _logs;
    private readonly JetStreamLease _lease;
    private readonly JetStreamSubscriptionClaims _claims;
    private readonly Lock _electionGate = new();
    private ILogger? _electionLog;
    private bool? _electionBeforeLog;
    private readonly string _servers;
    private readonly int _replicas;

    private ClusterStorage(NatsConnection connection, JetStreamMetadataStore metadata, JetStreamShardStore logs, JetStreamLease lease, JetStreamSubscriptionClaims claims, string servers, int replicas)
    {
        _claims = claims;
        _connection = connection;
        _metadata = metadata;
        _logs = logs;
        _lease = lease;
        _servers = servers;
        _replicas = replicas;
        lease.Changed += OnElectionChanged;
    }

    /// <summary>This node's name in the cluster: in its connection's name, its lease and its message ids.</summary>
    public string NodeId => _lease.NodeId;

    /// <summary>The cluster's metric history, which every node appends its minutes to and reads all nodes' from.</summary>
    public JetStreamMetricHistory OpenMetricHistory(TimeSpan retention, Action<string> warn) => new(new NatsJSContext(_connection), NodeId, retention, _replicas, warn);

    /// <summary>Thread-pool threads a cluster node starts without delay (see <see cref="OpenAsync"/>).</summary>
    private const int MinThreads = 32;

    /// <summary>
    /// Connects to <see cref="RunnelOptions.Nats"/> and opens the metadata bucket, the shard store and the lease,
    /// creating the buckets at <see cref="RunnelOptions.Replicas"/> when absent. Fails fast with an
    /// <see cref="IOException"/> that says what to fix: servers unreachable, JetStream off, too few servers for the
    /// replication asked for.
    /// </summary>
    public static async Task<ClusterStorage> OpenAsync(RunnelOptions options, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        string servers = options.Nats ?? throw new ArgumentException("ClusterStorage needs RunnelOptions.Nats.", nameof(options));
        // Metadata changes still wait synchronously on JetStream (the ADR's plan makes them asynchronous). The thread
        // pool starts with one thread per core and adds more only slowly: on two cores, a few control-plane calls
        // waiting at once left none for the NATS connection that would answer them. Threads up to this many start
        // at once instead.
        ThreadPool.GetMinThreads(out int workers, out int completions);
        ThreadPool.SetMinThreads(Math.Max(workers, MinThreads), completions);
        string nodeId = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}";
        var connection = new NatsConnection(new NatsOpts
        {
            Url = servers,
            Name = "runnel " + nodeId,
            AuthOpts = options.NatsCredentials is { } credentials ? new NatsAuthOpts { CredsFile = credentials } : NatsAuthOpts.Default,
            TlsOpts = options.NatsCa is { } ca ? new NatsTlsOpts { CaFile = ca, Mode = TlsMode.Require } : NatsTlsOpts.Default,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            RequestTimeout = TimeSpan.FromSeconds(10),
            // While every NATS server is gone, a publish or request waits this long for the connection to come back,
            // then fails (by default it would wait for ever, and so would the client's call: measured, a PutRecords
            // unanswered after 120 s). The callers ask again within their budget, then answer that storage is unavailable.
            CommandTimeout = TimeSpan.FromSeconds(5),
            PublishTimeoutOnDisconnected = true,
        });
        try
        {
            try
            {
                await connection.ConnectAsync().ConfigureAwait(false);
            }
            catch (NatsException e)
            {
                throw new IOException($"cannot connect to NATS at {servers}: {Innermost(e)}. Start the NATS servers (nats-server -js), or correct --nats" +
                    (options.NatsCredentials is null && options.NatsCa is null ? "." : ", --nats-credentials or --nats-ca."), e);
            }
            if (connection.ServerInfo is { } info && info.MaxPayload < RequiredMaxPayload)
                throw new IOException($"the NATS server {info.Name} takes messages of at most {info.MaxPayload} bytes; Runnel stores an append (up to a 10 MiB record) " +
                    $"as one message and needs {RequiredMaxPayload} (16 MiB): set 'max_payload: 16MB' in every nats-server's configuration and restart them.");
            var js = new NatsJSContext(connection);
            try
            {
                // A JetStream that is off answers at once that nobody responds; one that is busy or still electing its
                // meta leader answers late or not at all, and is asked again (a node of the benchmark once refused to
                // start, calling JetStream off, when one such request went unanswered).
                await Unanswered.RetryAsync(async () => await js.GetAccountInfoAsync(cancellationToken).ConfigureAwait(false), cancellationToken,
                    budget: Unanswered.StartBudget, retryWhen: e => e is not NatsNoRespondersException).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NatsJSApiException or NatsNoRespondersException or NatsJSApiNoResponseException)
            {
                throw new IOException($"the NATS servers at {servers} do not offer JetStream ({e.Message}): start nats-server with JetStream on (-js, or a jetstream block in its configuration).", e);
            }
            JetStreamMetadataStore metadata;
            JetStreamLease lease;
            JetStreamSubscriptionClaims claims;
            try
            {
                metadata = await JetStreamMetadataStore.OpenAsync(js, MetadataBucket, options.Replicas, cancellationToken).ConfigureAwait(false);
                lease = await JetStreamLease.OpenAsync(js, LeaderBucket, nodeId, LeaseLength, options.Replicas, clock, cancellationToken).ConfigureAwait(false);
                claims = await JetStreamSubscriptionClaims.OpenAsync(js, SubscriptionBucket, options.Replicas, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (Unanswered.Is(e))
            {
                throw new IOException($"JetStream at {servers} did not answer while the buckets {MetadataBucket}, {LeaderBucket} and {SubscriptionBucket} were opened ({e.Message}), " +
                    $"for {Unanswered.StartBudget.TotalSeconds:0} s: a cluster still electing its leaders, or servers too loaded to answer. Check 'nats server report jetstream' and start Runnel again.", e);
            }
            catch (NatsJSApiException e)
            {
                throw new IOException($"JetStream at {servers} could not make the bucket {MetadataBucket} with {options.Replicas} replicas: {e.Error.Description} ({e.Error.ErrCode}). " +
                    "--replicas may not exceed the JetStream servers in the cluster (give --replicas 1 for a single nats-server), and a bucket made before keeps its replication.", e);
            }
            var logs = new JetStreamShardStore(js, new JetStreamSettings { Replicas = options.Replicas, Clock = clock, WriterId = nodeId });
            var storage = new ClusterStorage(connection, metadata, logs, lease, claims, servers, options.Replicas);
            lease.Start();
            return storage;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is { } inner)
            e = inner;
        return e.Message;
    }

    public override IMetadataStore Metadata => _metadata;

    public override IShardStore Logs => _logs;

    public override string Description => $"NATS {_servers} (JetStream, {_replicas} replica{(_replicas == 1 ? "" : "s")}, node {NodeId})";

    public override string? LocalDirectory => null;

    public override bool Leads => _lease.IsHeld;

    public override string? ClusterNode => NodeId;

    public override ISubscriptionClaims? SubscriptionClaims => _claims;

    /// <summary>From now on says in the log when this node becomes the elected node and when it stops being it,
    /// starting with a change the lease saw before there was a log to say it in.</summary>
    public void LogElection(ILogger log)
    {
        lock (_electionGate)
        {
            _electionLog = log;
            if (_electionBeforeLog is { } held)
                SayElection(log, held);
        }
    }

    private void OnElectionChanged(bool held)
    {
        lock (_electionGate)
        {
            if (_electionLog is { } log)
                SayElection(log, held);
            else
                _electionBeforeLog = held;
        }
    }

    private void SayElection(ILogger log, bool held)
    {
        if (held)
            log.LogInformation("This node ({Node}) is now the elected node: it does the cluster's once-only work (status transitions, retention, orphan sweeps).", NodeId);
        else
            log.LogWarning("This node ({Node}) is no longer the elected node (its lease in the bucket {Bucket} ran out or was given up); another node does the once-only work.", NodeId, LeaderBucket);
    }

    public override bool SweepsOrphansAtStart => false;

    /// <summary>Released on shutdown, another node takes over at once rather than when the lease runs out; when
    /// JetStream does not answer in time the lease runs out as after a crash.</summary>
    private async Task ReleaseLeaseAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _lease.ReleaseAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NatsException or IOException or OperationCanceledException or TimeoutException)
        {
        }
    }

    public override async ValueTask DisposeAsync()
    {
        try
        {
            await _lease.DisposeAsync().ConfigureAwait(false); // renewals stop first, so the release below is the last word
            await ReleaseLeaseAsync().ConfigureAwait(false);
            await _claims.DisposeAsync().ConfigureAwait(false);
            _logs.Dispose();
            _metadata.Dispose();
        }
        finally
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
