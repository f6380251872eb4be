namespace DANNet.Edge.Contracts;

/// <summary>
/// An error the user can fix (a bad data set, checkpoint, frame source, weight file): every command reports it as one line naming
/// the file or field and what to do, with exit code 1, never a stack. The base of the product's own error types.
/// </summary>
public abstract class FixableException(string message, Exception? inner = null) : Exception(message, inner);
