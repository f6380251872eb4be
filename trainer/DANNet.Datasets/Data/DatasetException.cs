namespace DANNet.Trainer.Data;

/// <summary>A data set on disk is not as expected; the message names the file or folder and what to do.</summary>
public sealed class DatasetException(string message, Exception? inner = null) : DANNet.Edge.Contracts.FixableException(message, inner);
