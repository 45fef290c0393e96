using Runnel.Core.Model;
using Runnel.Functions.Catalog;
using Runnel.Functions.Invoke;
using Runnel.Storage;
using Runnel.Storage.Metadata;

namespace Runnel.Functions.Mappings;

/// <summary>What the mappings' pollers use of the server: its streams (by the name they are held under) and their shard
/// logs, the functions and how to invoke them, the metadata store for the positions, the clock and the log.</summary>
public sealed record MappingContext(
    Func<string, StreamInfo?> FindStream,
    IShardStore Logs,
    FunctionCatalog Functions,
    IFunctionInvoker Invoker,
    IMetadataStore Metadata,
    TimeProvider Clock,
    string Region,
    string ServerAccount,
    Action<string> Warn)
{
    /// <summary>Where the functions' metrics are counted (IteratorAge, DestinationDeliveryFailures); null: nowhere.</summary>
    public Runnel.Core.Metrics.MetricRegistry? Metrics { get; init; }

    /// <summary>Why a mapping cannot read its source (a consumer ARN: the consumer is gone or not ACTIVE), or null when it can; null: not asked.</summary>
    public Func<string, string?>? SourceProblem { get; init; }

    /// <summary>The pause when no shard has records to give.</summary>
    public TimeSpan IdleWait { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long an invocation under way when its mapping stops is given to end before it is cancelled.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest pause between two attempts of a batch the function failed.</summary>
    public TimeSpan MaxRetryWait { get; init; } = TimeSpan.FromSeconds(5);
}
