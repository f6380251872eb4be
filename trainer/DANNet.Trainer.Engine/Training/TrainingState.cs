namespace DANNet.Trainer.Training;

/// <summary>What a checkpoint folder holds besides the weights: where the run was and what produced it (<see cref="IO.CodeVersion"/>).</summary>
public sealed record TrainingState(long Iteration, string Architecture, TrainingMode Mode, bool UseLight, string ConfigHash, string CodeVersion);
