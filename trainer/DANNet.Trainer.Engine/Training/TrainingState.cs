using DANNet.Trainer.Models;

namespace DANNet.Trainer.Training;

/// <summary>
/// What a checkpoint folder holds besides the weights: where the run was, what produced it
/// (<see cref="IO.CodeVersion"/>) and how the model is meant to be run (<see cref="Inference"/>;
/// absent in checkpoints written before it existed, which then run with the reference protocol).
/// </summary>
public sealed record TrainingState(long Iteration, string Architecture, TrainingMode Mode, bool UseLight, string ConfigHash, string CodeVersion, InferenceSettings? Inference = null);
