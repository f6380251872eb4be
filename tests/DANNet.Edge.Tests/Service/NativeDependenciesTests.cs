using System.Diagnostics;
using System.Runtime.InteropServices;
using DANNet.Edge.Service;
using DANNet.Model;
using DANNet.Edge.Tests.SharedMemory;

namespace DANNet.Edge.Tests.Service;

/// <summary>
/// The native libraries and the one list of their packages (systemd/native-dependencies.tsv): every
/// library a built .so needs is listed, and a missing one stops the daemon first with one line.
/// </summary>
public sealed class NativeDependenciesTests
{
    /// <summary>The shared libraries each native library of the build needs (readelf -d, NEEDED).</summary>
    private static IEnumerable<(string Library, string Soname)> Needed()
    {
        var folders = new[] { AppContext.BaseDirectory, Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native"),
            System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory() };
        foreach (var file in folders.Where(Directory.Exists).SelectMany(f => Directory.EnumerateFiles(f, "*.so")))
        {
            var info = new ProcessStartInfo("readelf", ["-d", file]) { RedirectStandardOutput = true, UseShellExecute = false };
            using var p = Process.Start(info)!;
            string text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            foreach (var line in text.Split('\n').Where(l => l.Contains("(NEEDED)", StringComparison.Ordinal)))
                yield return (Path.GetFileName(file), line[(line.IndexOf('[') + 1)..line.IndexOf(']')]);
        }
    }

    [Fact]
    public void Every_library_a_built_native_library_needs_is_in_the_list_with_its_package()
    {
        var table = NativeDependencies.Table;
        var needed = Needed().ToList();
        Assert.Contains(needed, n => n.Library == "libOpenCvSharpExtern.so");
        Assert.Contains(needed, n => n.Library == "libonnxruntime.so");
        var shipped = needed.Select(n => n.Library).ToHashSet();
        var missing = needed.Where(n => !shipped.Contains(n.Soname) && table.All(r => r.Soname != n.Soname))
            .Select(n => $"{n.Soname} (needed by {n.Library})").Distinct().ToList();
        Assert.True(missing.Count == 0, "not in systemd/native-dependencies.tsv: " + string.Join(", ", missing));
        Assert.Contains(table, r => r is { Soname: "libgtk-3.so.0", Package: "libgtk-3-0", Required: true });
        Assert.All(table.Where(r => r.Required), r => Assert.Matches("^[a-z0-9][a-z0-9.+-]+$", r.Package));
    }

    private const string NoFile = "cannot open shared object file: No such file or directory";

    [Theory]
    [InlineData("/lib/x86_64-linux-gnu/libgtk-3.so.0: file too short", "libgtk-3.so.0 is missing (file too short): install the package libgtk-3-0")]
    [InlineData("libatomic.so.1: " + NoFile, "libatomic.so.1 is missing (" + NoFile + "): install the package libatomic1")]
    [InlineData("libweird.so.7: " + NoFile, "libweird.so.7 is missing (" + NoFile + "): install the package that provides it (apt-file search libweird.so.7)")]
    [InlineData("/opt/x/libOpenCvSharpExtern.so: " + NoFile, "libOpenCvSharpExtern.so cannot be loaded: " + NoFile + ". The program's folder is incomplete")]
    public void A_loader_failure_becomes_one_line_with_the_package(string loader, string expected)
    {
        var ex = new TypeInitializationException("OpenCvSharp.Internal.NativeMethods", new DllNotFoundException(
            $"Unable to load shared library 'OpenCvSharpExtern' or one of its dependencies.\n/opt/x/OpenCvSharpExtern.so: {NoFile}\n{loader}\n"));
        string line = NativeDependencies.Explain("OpenCV", "libOpenCvSharpExtern.so", ex);
        Assert.Contains(expected, line);
        Assert.DoesNotContain('\n', line);
    }

    [DllImport("libdannet-absent.so.3")]
    private static extern int AbsentFunction();

    /// <summary>
    /// Every command line's error mapping (<see cref="CommandErrors"/>) reports a library that does not load as one line, exit 1: the
    /// runtime's own DllNotFoundException for a library that is not there, and OpenCV's binding failing on a dependency it needs.
    /// </summary>
    [Fact]
    public void Command_errors_report_a_library_that_does_not_load_as_one_line()
    {
        var error = new StringWriter();
        Assert.Equal(1, CommandErrors.Run(error, () => AbsentFunction()));
        Assert.StartsWith("error: libdannet-absent.so.3's native library libdannet-absent.so.3 cannot be loaded: ", error.ToString());
        Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));

        error = new StringWriter();
        var opencv = new TypeInitializationException("OpenCvSharp.Internal.NativeMethods", new DllNotFoundException(
            $"Unable to load shared library 'OpenCvSharpExtern' or one of its dependencies.\n/opt/x/OpenCvSharpExtern.so: {NoFile}\nlibgtk-3.so.0: {NoFile}\n"));
        Assert.Equal(1, CommandErrors.Run(error, () => throw opencv));
        Assert.Equal($"error: OpenCV's native library libOpenCvSharpExtern.so cannot be loaded: libgtk-3.so.0 is missing ({NoFile}): install the package " +
            "libgtk-3-0 (apt-get install libgtk-3-0; the dannet-edge .deb depends on it, systemd/native-dependencies.tsv lists them all).\n",
            error.ToString().ReplaceLineEndings("\n"));

        // Any other type initializer that fails is a defect and keeps its stack.
        Assert.Throws<TypeInitializationException>(() => CommandErrors.Run(error, () => throw new TypeInitializationException("X", new InvalidOperationException("bug"))));
    }

    /// <summary>
    /// The real loader: in a mount namespace of its own, libgtk-3 is replaced by an empty file (as on a
    /// minimal system that lacks it); run must stop before model and ring with exit 2 and one line.
    /// Needs root for the mount namespace, as CI runs.
    /// </summary>
    [Fact]
    public void Run_without_a_library_opencv_needs_exits_2_with_one_line_before_touching_the_ring()
    {
        string gtk = Path.GetFullPath(new FileInfo("/usr/lib/x86_64-linux-gnu/libgtk-3.so.0").ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? "/usr/lib/x86_64-linux-gnu/libgtk-3.so.0");
        Assert.True(File.Exists(gtk), $"{gtk}: build.sh installs libgtk-3-0");
        string ring = Path.Combine(Directory.CreateTempSubdirectory("dannet-native-").FullName, "ring", "masks");
        var (code, output) = RingProcesses.Finish(RingProcesses.Start("unshare",
            "-m", "sh", "-c", $"mount --bind /dev/null '{gtk}' && exec dotnet '{RingProcesses.EdgeDll}' run --frames 1 --output '{ring}'"));
        Assert.Equal(2, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("libgtk-3.so.0 is missing", lines[0]);
        Assert.Contains("apt-get install libgtk-3-0", lines[0]);
        Assert.False(Directory.Exists(Path.GetDirectoryName(ring)), "the ring's folder was created before the check");
    }

    /// <summary>
    /// .NET loads OpenSSL itself (dlopen, no NEEDED entry), and without it aborts the process at the first random file name — the ring's
    /// temporary name — past every handler (an arm64 system test saw exactly that: "No usable version of libssl was found", SIGABRT).
    /// With libssl.so.3 made unloadable in a mount namespace of its own, run must stop before model and ring with exit 2 and one line
    /// that names the package. Needs root for the mount namespace, as CI runs.
    /// </summary>
    [Fact]
    public void Run_without_openssl_exits_2_with_one_line_instead_of_an_abort()
    {
        var row = Assert.Single(NativeDependencies.Table, r => r.Soname == "libssl.so.3");
        Assert.True(row is { Package: "libssl3", Required: true, Loaded: true }, $"{row}: the .deb adds a loaded library by its row alone");
        string ssl = new FileInfo("/usr/lib/x86_64-linux-gnu/libssl.so.3").ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? "/usr/lib/x86_64-linux-gnu/libssl.so.3";
        Assert.True(File.Exists(ssl), $"{ssl}: .NET itself needs it");
        string ring = Path.Combine(Directory.CreateTempSubdirectory("dannet-native-").FullName, "ring", "masks");
        var (code, output) = RingProcesses.Finish(RingProcesses.Start("unshare",
            "-m", "sh", "-c", $"mount --bind /dev/null '{ssl}' && exec dotnet '{RingProcesses.EdgeDll}' run --frames 1 --output '{ring}'"));
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("OpenSSL cannot be loaded: libssl.so.3 is missing", line);
        Assert.Contains("apt-get install libssl3", line);
        Assert.False(Directory.Exists(Path.GetDirectoryName(ring)), "the ring's folder was created before the check");
    }
}
