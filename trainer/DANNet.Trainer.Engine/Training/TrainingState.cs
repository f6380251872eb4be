using System.Reflection;

namespace DANNet.Trainer.Training;

/// <summary>What a checkpoint folder holds besides the weights: where the run was and what produced it.</summary>
public sealed record TrainingState(long Iteration, string Architecture, TrainingMode Mode, bool UseLight, string ConfigHash, string CodeVersion)
{
    /// <summary>This build's version with the git commit it was built from (when built in a git checkout).</summary>
    public static string CurrentCodeVersion { get; } =
        typeof(TrainingState).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
