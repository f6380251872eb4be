namespace DANNet.Trainer.Models.Checkpoints;

/// <summary>A checkpoint could not be read or does not fit the model; the message names the file and every offending key.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : DANNet.Edge.Contracts.FixableException(message, inner);
