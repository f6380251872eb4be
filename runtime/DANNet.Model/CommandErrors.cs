using DANNet.Edge.Contracts;

namespace DANNet.Model;

/// <summary>
/// The one mapping of errors to exit codes every command line uses (dannet-train, dannet-edge, dannet-calibrate): an error the user can
/// fix — a file that is missing, unreadable or malformed, a bad argument, a model ONNX Runtime refuses, any <see cref="FixableException"/> —
/// is one line <c>error: …</c> and exit code 1, and so is a native library that does not load (<see cref="NativeDependencies.Describe"/>:
/// the missing library and its package); a cancellation (Ctrl-C) is exit code 130. Anything else is a defect and keeps its stack.
/// OpenSSL is looked for first (<see cref="NativeDependencies.CheckOpenSsl"/>): without it .NET aborts the process at the first random file
/// name or hash, past any handler.
/// </summary>
public static class CommandErrors
{
    /// <summary>Whether <paramref name="ex"/> is an error the user can fix.</summary>
    public static bool IsFixable(Exception ex) =>
        ex is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or FixableException
            or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or Google.Protobuf.InvalidProtocolBufferException;

    /// <summary>
    /// Runs <paramref name="action"/>, reporting a fixable error or a cancellation on <paramref name="error"/> as described above; an error
    /// <paramref name="describe"/> has a line for (a tool's own, e.g. the trainer's CUDA failures) is that line and exit code 1.
    /// </summary>
    public static int Run(TextWriter error, Func<int> action, Func<Exception, string?>? describe = null)
    {
        try
        {
            NativeDependencies.CheckOpenSsl();
            return action();
        }
        catch (NativeDependencyException ex)
        {
            error.WriteLine($"error: {ex.Message}");
            return 1;
        }
        catch (Exception ex) when (describe?.Invoke(ex) is { } line)
        {
            error.WriteLine($"error: {line}");
            return 1;
        }
        catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException && NativeDependencies.Describe(ex) is { } line)
        {
            error.WriteLine($"error: {line}");
            return 1;
        }
        catch (Exception ex) when (IsFixable(ex))
        {
            error.WriteLine($"error: {ex.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("cancelled.");
            return 130;
        }
    }
}
