namespace DANNet.System.Tests;

/// <summary>The system tests run one after the other: each loads the machine (a container, an emulated arm64 process).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SystemCollection
{
    public const string Name = "system";
}
