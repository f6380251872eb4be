namespace DANNet.Model;

/// <summary>A native library the daemon needs does not load; the message is one line naming it and the package that provides it.</summary>
public sealed class NativeDependencyException(string message, Exception inner) : Exception(message, inner);
