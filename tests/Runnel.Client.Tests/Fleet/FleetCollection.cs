namespace Runnel.Client.Tests.Fleet;

/// <summary>
/// The fleet test runs alone: its three worker processes and producer load both cores of a small machine, which would
/// stretch the lease timings of tests running beside it (and its own failover timings with them).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FleetCollection
{
    public const string Name = "Fleet worker processes";
}
