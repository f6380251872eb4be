using System.Diagnostics;

namespace DANNet.System.Tests;

/// <summary>
/// A minimal Debian 12 booted under its own systemd with <c>systemd-nspawn</c> (the machine's PID 1
/// is not systemd): a copy of a cached debootstrap tree (made once, ≈ 1 min, in
/// <see cref="CacheRoot"/>), booted with the given folders bound read-only, driven through
/// <c>nsenter</c> into its namespaces. Disposing powers it off and deletes the copy.
/// </summary>
public sealed class DebianContainer : IDisposable
{
    /// <summary>Where the pristine tree is kept between runs (DANNET_SYSTEM_TEST_CACHE overrides).</summary>
    public static string CacheRoot { get; } = Environment.GetEnvironmentVariable("DANNET_SYSTEM_TEST_CACHE") ?? "/var/cache/dannet-edge-ci/bookworm";

    private readonly Process _nspawn;
    private readonly string _root;

    private DebianContainer(Process nspawn, string root, int pid1)
    {
        _nspawn = nspawn;
        _root = root;
        Pid1 = pid1;
    }

    /// <summary>The container's PID 1 (its systemd), as the host sees it.</summary>
    public int Pid1 { get; }

    /// <summary>Why no container can boot here (not root, no systemd-nspawn or debootstrap), or null.</summary>
    public static string? WhyNot()
    {
        if (Environment.UserName != "root" && Mounts.GetEuid() != 0) return "the system test needs root (systemd-nspawn, debootstrap)";
        foreach (var tool in new[] { "systemd-nspawn", "debootstrap", "nsenter", "dpkg-deb" })
            if (!OnPath(tool)) return $"'{tool}' is not installed (build.sh installs systemd-container and debootstrap)";
        return null;
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));

    /// <summary>Makes the cached tree if it is missing: debootstrap minbase with systemd and dbus, and apt's lists.</summary>
    public static void EnsureCache(Action<string> log)
    {
        if (File.Exists(Path.Combine(CacheRoot, "etc", "debian_version")) && Directory.Exists(Path.Combine(CacheRoot, "var", "lib", "apt", "lists", "partial")))
            return;
        string building = CacheRoot + ".building";
        if (Directory.Exists(building)) Directory.Delete(building, true);
        Directory.CreateDirectory(Path.GetDirectoryName(CacheRoot)!);
        log($"debootstrap bookworm into {building} (once; cached in {CacheRoot})");
        Host.Run(600, "debootstrap", "--variant=minbase", "--include=systemd,systemd-sysv,dbus", "bookworm", building, "http://deb.debian.org/debian");
        Host.Run(300, "chroot", building, "apt-get", "update", "-qq");
        if (Directory.Exists(CacheRoot)) Directory.Delete(CacheRoot, true);
        Directory.Move(building, CacheRoot);
    }

    /// <summary>Copies the cached tree and boots it; <paramref name="binds"/> are host folder → container folder, read-only.</summary>
    public static DebianContainer Boot(IReadOnlyDictionary<string, string> binds, TimeSpan timeout)
    {
        string root = Path.Combine(Path.GetTempPath(), $"dannet-system-{Guid.NewGuid():N}");
        Host.Run(300, "cp", "-a", CacheRoot, root);
        var info = new ProcessStartInfo("systemd-nspawn") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "-D", root, "--boot", "--register=no", "--keep-unit", "--console=passive" }) info.ArgumentList.Add(a);
        foreach (var (host, guest) in binds) info.ArgumentList.Add($"--bind-ro={host}:{guest}");
        var nspawn = Process.Start(info)!;
        nspawn.StandardOutput.ReadToEndAsync();
        var stderr = nspawn.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        int pid1 = 0;
        while (pid1 == 0 && clock.Elapsed < timeout && !nspawn.HasExited)
        {
            Thread.Sleep(100);
            pid1 = ChildOf(nspawn.Id);
        }
        if (pid1 == 0)
        {
            if (!nspawn.HasExited) nspawn.Kill(true);
            nspawn.WaitForExit();
            Directory.Delete(root, true);
            throw new ContainerCannotBootException($"systemd-nspawn did not start a container in {timeout.TotalSeconds:F0} s: {stderr.Result.Trim()}");
        }
        // The container's PID 1 exists before it is systemd with a bus (nspawn's child execs into it): ask again, finding PID 1
        // anew, until systemd answers ("offline" and "Failed to connect to bus" are that moment), then wait for the boot to finish.
        var container = new DebianContainer(nspawn, root, pid1);
        var (code, output) = (0, "");
        while (true)
        {
            (code, output) = container.Exec("systemctl is-system-running --wait", Math.Max(1, (int)(timeout - clock.Elapsed).TotalSeconds));
            // nspawn's first child can also be a short-lived intermediate that forks the real PID 1 and exits: a PID that is gone
            // ("nsenter: cannot open /proc/N/ns/…") is that moment too.
            bool early = output.Contains("Failed to connect to bus", StringComparison.Ordinal) || output.Trim() == "offline"
                || !Directory.Exists($"/proc/{container.Pid1}");
            if (!early || clock.Elapsed >= timeout) break;
            Thread.Sleep(250);
            if (ChildOf(nspawn.Id) is var again && again != 0 && again != container.Pid1) container = new DebianContainer(nspawn, root, again);
        }
        if (output.Trim() is not ("running" or "degraded"))
        {
            container.Dispose();
            throw new ContainerCannotBootException($"the container's systemd did not finish booting ({code}: {output.Trim()})");
        }
        return container;
    }

    private static int ChildOf(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == parent) return pid;
            }
            catch (IOException) { }
        }
        return 0;
    }

    /// <summary>Runs a shell command inside the container (its namespaces, as root); exit code and everything it printed.</summary>
    public (int Code, string Output) Exec(string shell, int timeoutSeconds = 120) =>
        Host.TryRun(timeoutSeconds, "nsenter", "-t", Pid1.ToString(global::System.Globalization.CultureInfo.InvariantCulture), "-a", "/bin/sh", "-c", shell);

    /// <summary>As <see cref="Exec"/>, failing the test on a non-zero exit.</summary>
    public string Must(string shell, int timeoutSeconds = 120)
    {
        var (code, output) = Exec(shell, timeoutSeconds);
        Assert.True(code == 0, $"in the container, '{shell}' exited {code}: {output}");
        return output;
    }

    public void Dispose()
    {
        if (!_nspawn.HasExited)
        {
            Exec("systemctl poweroff", 20);
            if (!_nspawn.WaitForExit(30_000)) _nspawn.Kill(true);
        }
        _nspawn.WaitForExit();
        _nspawn.Dispose();
        if (Directory.Exists(_root)) Host.TryRun(120, "rm", "-rf", "--one-file-system", _root);
    }
}

/// <summary>No container can boot on this machine: the system test is skipped with this reason.</summary>
public sealed class ContainerCannotBootException(string message) : Exception(message);
