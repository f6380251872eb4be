using System.Diagnostics;
using System.Runtime.InteropServices;

namespace DANNet.System.Tests;

/// <summary>Commands on the host, bounded in time.</summary>
internal static class Host
{
    /// <summary>Runs a command; exit code and its output (stdout then stderr). A command past its time is killed (exit −1).</summary>
    public static (int Code, string Output) TryRun(int timeoutSeconds, string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(true);
            p.WaitForExit();
            return (-1, $"(killed after {timeoutSeconds} s) {stdout.Result}{stderr.Result}");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>As <see cref="TryRun"/>, throwing on a non-zero exit with the command and its output.</summary>
    public static string Run(int timeoutSeconds, string file, params string[] args)
    {
        var (code, output) = TryRun(timeoutSeconds, file, args);
        if (code != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}: {output}");
        return output;
    }
}

/// <summary>The effective user id.</summary>
internal static partial class Mounts
{
    [LibraryImport("libc", EntryPoint = "geteuid")]
    internal static partial uint GetEuid();
}
