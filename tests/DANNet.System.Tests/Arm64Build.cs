using System.Diagnostics;

namespace DANNet.System.Tests;

/// <summary>
/// The linux-arm64 publish of dannet-edge (CPU inference, ONNX Runtime's aarch64 library), run on
/// this x64 machine under qemu-user-static through binfmt. ONNX Runtime reads /proc/cpuinfo to pick
/// its kernels and crashes on the x64 text qemu passes through, so arm64 commands run in a mount
/// namespace where /proc/cpuinfo is an arm64 one (data/cpuinfo-arm64: a two-core Neoverse-N1).
/// </summary>
public sealed class Arm64Build : IDisposable
{
    private readonly string _publish = Directory.CreateTempSubdirectory("dannet-arm64-").FullName;

    public Arm64Build()
    {
        SkipReason = WhyNot();
        if (SkipReason is not null) return;
        var clock = Stopwatch.StartNew();
        Host.Run(1200, "dotnet", "publish", Path.Combine(PackagedService.RepositoryRoot, "runtime", "DANNet.Edge"), "-c", "Release", "-r", "linux-arm64",
            "--self-contained", "-o", _publish, "-nologo", "-v", "q");
        Notes.Add($"linux-arm64 publish in {clock.Elapsed.TotalSeconds:F0} s");
    }

    public string? SkipReason { get; }

    public List<string> Notes { get; } = [];

    public string Executable => Path.Combine(_publish, "dannet-edge");

    public string PublishFolder => _publish;

    private static string? WhyNot()
    {
        if (Mounts.GetEuid() != 0) return "running arm64 builds needs root (a mount namespace for /proc/cpuinfo)";
        if (!File.Exists("/proc/sys/fs/binfmt_misc/qemu-aarch64") || !File.ReadAllText("/proc/sys/fs/binfmt_misc/qemu-aarch64").StartsWith("enabled", StringComparison.Ordinal))
            return "qemu-aarch64 is not registered with binfmt_misc (build.sh installs qemu-user-static and binfmt-support; update-binfmts --enable qemu-aarch64)";
        if (!File.Exists("/lib/ld-linux-aarch64.so.1")) return "the arm64 C library is missing (dpkg --add-architecture arm64; apt-get install libc6:arm64 libstdc++6:arm64)";
        return null;
    }

    /// <summary>Runs the arm64 dannet-edge with <paramref name="args"/> under qemu, to its end.</summary>
    public (int Code, string Output) Run(int timeoutSeconds, params string[] args) => Host.TryRun(timeoutSeconds, "unshare", UnderArm64CpuInfo(args));

    /// <summary>Starts the arm64 dannet-edge with <paramref name="args"/> under qemu.</summary>
    public Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in UnderArm64CpuInfo(args)) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    /// <summary><c>unshare</c>'s arguments that run the arm64 program with <paramref name="args"/> where /proc/cpuinfo is the arm64 one.</summary>
    private string[] UnderArm64CpuInfo(string[] args) =>
        ["-m", "sh", "-c", "mount --bind \"$0\" /proc/cpuinfo && exec \"$@\"", Path.Combine(AppContext.BaseDirectory, "data", "cpuinfo-arm64"), Executable, .. args];

    public void Dispose() => Directory.Delete(_publish, true);
}
