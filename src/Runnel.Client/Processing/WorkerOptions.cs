namespace Runnel.Client.Processing;

/// <summary>Where a new application starts reading a shard that has no checkpoint yet.</summary>
public enum InitialPosition
{
    /// <summary>The oldest record each shard holds (every shard is read, parents before children).</summary>
    TrimHorizon,

    /// <summary>Records that arrive after the worker first reads the shard (open shards only).</summary>
    Latest,

    /// <summary>Records that arrived at or after <see cref="WorkerOptions.InitialTimestamp"/>.</summary>
    AtTimestamp,
}

/// <summary>How a worker reads its shards.</summary>
public enum RetrievalMode
{
    /// <summary>Enhanced fan-out (SubscribeToShard) as a consumer registered under the application's name: the KCL's default.</summary>
    FanOut,

    /// <summary>GetRecords polling, sharing the shard's read throughput with other readers.</summary>
    Polling,
}

/// <summary>The settings of a <see cref="KinesisWorker"/>.</summary>
public sealed record WorkerOptions
{
    /// <summary>The stream to consume.</summary>
    public required string StreamName { get; init; }

    /// <summary>The application's name: its lease table's name, and its registered consumer's for fan-out.</summary>
    public required string ApplicationName { get; init; }

    /// <summary>This worker's id, unique in the application's fleet (default: host name and a random suffix).</summary>
    public string WorkerId { get; init; } = $"{Environment.MachineName}-{Guid.NewGuid():N}";

    /// <summary>Where shards without a checkpoint start.</summary>
    public InitialPosition InitialPosition { get; init; } = InitialPosition.Latest;

    /// <summary>The time for <see cref="InitialPosition.AtTimestamp"/>.</summary>
    public DateTimeOffset? InitialTimestamp { get; init; }

    /// <summary>How shards are read (default fan-out, as the KCL).</summary>
    public RetrievalMode Retrieval { get; init; } = RetrievalMode.FanOut;

    /// <summary>How long a lease's counter may stand still before other workers take the lease (default 10 s, the
    /// KCL's); the holder renews every third of it.</summary>
    public TimeSpan FailoverTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the worker scans the lease table to take leases and start their shards (default: the failover time).</summary>
    public TimeSpan? LeaseScanInterval { get; init; }

    /// <summary>How often the worker lists the stream's shards to make leases for new ones (default 1 minute; also at start).</summary>
    public TimeSpan ShardSyncInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Polling: the most records of one GetRecords call (default 10,000).</summary>
    public int MaxRecords { get; init; } = 10_000;

    /// <summary>Polling: the pause after a GetRecords call that returned nothing (default 1 s, the KCL's).</summary>
    public TimeSpan IdleTimeBetweenReads { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The pause before a shard's reading is tried again after an error (default 1 s).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The most leases this worker holds (default no limit).</summary>
    public int MaxLeasesForWorker { get; init; } = int.MaxValue;

    /// <summary>The most leases taken from another worker at once (default 1, the KCL's).</summary>
    public int MaxLeasesToStealAtOneTime { get; init; } = 1;

    /// <summary>Where the worker says what it does (leases taken and lost, shards started and ended, errors); null for silence.</summary>
    public Action<string>? Log { get; init; }
}
