using Runnel.Storage;
using Runnel.Storage.Metadata;

namespace Runnel.Server.Storage;

/// <summary>
/// What a server stores on: the metadata and the shard logs, with whatever keeps them open. Either the embedded
/// storage under the data directory (<see cref="EmbeddedStorage"/>) or a NATS JetStream cluster
/// (<see cref="ClusterStorage"/>); the rest of the server sees only <see cref="IMetadataStore"/> and <see cref="IShardStore"/>.
/// </summary>
public abstract class ServerStorage : IAsyncDisposable
{
    public abstract IMetadataStore Metadata { get; }

    public abstract IShardStore Logs { get; }

    /// <summary>Where the data lives, for the start-up line: "data /var/lib/runnel" or "NATS nats://… (R3)".</summary>
    public abstract string Description { get; }

    /// <summary>The directory whose disk faults <see cref="StorageHealth"/> diagnoses; null when nothing is kept on this node's disk.</summary>
    public abstract string? LocalDirectory { get; }

    /// <summary>Whether this node does the work that must be done once (retention, on-demand scaling) now: always for
    /// the embedded storage, only while it holds the cluster's lease on JetStream.</summary>
    public abstract bool Leads { get; }

    /// <summary>SubscribeToShard's holders as all nodes see them; null for the embedded node, which has no other.</summary>
    public virtual ISubscriptionClaims? SubscriptionClaims => null;

    /// <summary>This node's name in its cluster, shown by <c>/health</c> with <see cref="Leads"/>; null for the embedded node.</summary>
    public virtual string? ClusterNode => null;

    /// <summary>Whether logs no metadata names may be deleted at start-up. On the cluster another node may have just
    /// created a stream this node's snapshot of the metadata does not hold yet, so it may not.</summary>
    public abstract bool SweepsOrphansAtStart { get; }

    /// <summary>Opens the storage <paramref name="options"/> choose: JetStream when <see cref="RunnelOptions.Nats"/> is set.</summary>
    public static ServerStorage Open(RunnelOptions options, TimeProvider clock, Action<string> warn) =>
        options.Nats is null
            ? EmbeddedStorage.OpenDirectory(options, clock, warn)
            : ClusterStorage.OpenAsync(options, clock).GetAwaiter().GetResult();

    public abstract ValueTask DisposeAsync();
}
