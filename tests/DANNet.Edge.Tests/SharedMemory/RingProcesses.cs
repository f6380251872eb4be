using System.Diagnostics;
using System.Text.Json;

namespace DANNet.Edge.Tests.SharedMemory;

/// <summary>The ring's other processes for tests: dannet-edge (tap, publish-test-pattern) and the Python reader.</summary>
internal static class RingProcesses
{
    public static readonly string EdgeDll = Path.Combine(AppContext.BaseDirectory, "dannet-edge.dll");

    public static readonly string PythonReader =
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "runtime", "python", "dannet_edge_shm.py"));

    /// <summary>
    /// Starts <paramref name="file"/> with the default disposition of SIGHUP, SIGINT and SIGQUIT, as a terminal or systemd
    /// starts a process (through <c>env --default-signal</c>, which then executes it: same pid). A test run launched in the
    /// background (<c>nohup</c>, <c>cmd &amp;</c> in a script) has them ignored, children inherit that, and the .NET runtime
    /// keeps an ignored SIGINT ignored — a test that sends one would test the launcher, not the program.
    /// </summary>
    public static Process Start(string file, params string[] args)
    {
        var info = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("--default-signal=HUP,INT,QUIT");
        info.ArgumentList.Add(file);
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
    }

    /// <summary>Runs a process to its end (a minute at most: longer is a hang) and returns its exit code and all it printed.</summary>
    public static (int Code, string Output) Finish(Process p)
    {
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        bool exited = p.WaitForExit(60_000);
        if (!exited) p.Kill(entireProcessTree: true);
        Assert.True(exited, $"{Describe(p)} did not finish within a minute");
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>The Python reader with <paramref name="args"/>, to its end.</summary>
    public static (int Code, string Output) Python(params string[] args) => Finish(Start("python3", [PythonReader, .. args]));

    /// <summary>dannet-edge with <paramref name="args"/>, to its end.</summary>
    public static (int Code, string Output) Edge(params string[] args) => Finish(Start("dotnet", [EdgeDll, .. args]));

    /// <summary><c>dannet-edge tap --path <paramref name="ring"/></c> with <paramref name="args"/>, started.</summary>
    public static Process Tap(string ring, params string[] args) => Start("dotnet", [EdgeDll, "tap", "--path", ring, .. args]);

    /// <summary>
    /// Waits until each of <paramref name="readers"/> holds the ring at <paramref name="ring"/> open (one of its
    /// <c>/proc/PID/fd</c> links names the file; both readers keep it open while they follow it): then it has
    /// started, installed its signal handlers and attached, however long starting took on a busy machine.
    /// Fails after a minute, or when a reader ended first.
    /// </summary>
    public static void WaitUntilOpen(string ring, params Process[] readers)
    {
        var clock = Stopwatch.StartNew();
        foreach (var reader in readers)
        {
            while (!Holds(reader, ring))
            {
                Assert.False(reader.HasExited, $"{Describe(reader)} ended before it opened {ring}");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1), $"{Describe(reader)} did not open {ring} within a minute");
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>The command line a process was started with, for failure messages.</summary>
    private static string Describe(Process p) => $"{p.StartInfo.FileName} {string.Join(' ', p.StartInfo.ArgumentList)}";

    private static bool Holds(Process p, string file)
    {
        try
        {
            return new DirectoryInfo($"/proc/{p.Id}/fd").EnumerateFileSystemInfos().Any(fd => fd.LinkTarget == file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // ended, or an fd closed while listing: asked again
        }
    }

    /// <summary>The last JSON object a reader printed (its --json summary).</summary>
    public static JsonElement LastJson(string output) =>
        JsonDocument.Parse(output.Split('\n').LastOrDefault(l => l.TrimStart().StartsWith('{'))
            ?? throw new Xunit.Sdk.XunitException($"no JSON summary in: {output}")).RootElement.Clone();
}

/// <summary>A test class with a temporary folder of its own (mode 0700, this user's: a valid ring folder), removed afterwards.</summary>
public abstract class RingFolderTests(string prefix) : IDisposable
{
    protected string Dir { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        Directory.Delete(Dir, true);
        GC.SuppressFinalize(this);
    }
}
