namespace Runnel.Storage.Tests;

/// <summary>
/// Tests that measure the whole test process (its open file descriptors) run in this collection, alone:
/// xUnit runs a collection with parallelization disabled after the parallel ones, so no other test's
/// files are open while they count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCollection
{
    public const string Name = "process-wide";
}
