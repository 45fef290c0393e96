namespace Runnel.Server.Tests;

/// <summary>
/// Tests that measure the whole test process (what it allocates) run in this collection, alone: xUnit runs
/// a collection with parallelization disabled after the parallel ones, so no other test allocates meanwhile.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCollection
{
    public const string Name = "process-wide";
}
