using System.Diagnostics;

namespace DANNet.Edge.Tests.Service;

/// <summary>The unit file, checked by systemd's own verifier.</summary>
public sealed class SystemdUnitTests : IDisposable
{
    private static readonly string Unit = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "systemd", "dannet-edge.service"));
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-unit-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>
    /// systemd-analyze verify checks that ExecStart's binary exists; the installed path
    /// (/opt/dannet-edge) does not exist here, so the copy points at the built binary instead —
    /// every other line is verified as shipped.
    /// </summary>
    private (int Exit, string Errors) Verify(Func<string, string> edit)
    {
        string built = Path.Combine(AppContext.BaseDirectory, "dannet-edge");
        Assert.True(File.Exists(built), built);
        string text = File.ReadAllText(Unit).Replace("/opt/dannet-edge/dannet-edge run", built + " run", StringComparison.Ordinal);
        string copy = Path.Combine(_dir, "dannet-edge.service");
        File.WriteAllText(copy, edit(text));
        var info = new ProcessStartInfo("systemd-analyze") { RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add("verify");
        info.ArgumentList.Add(copy);
        using var p = Process.Start(info)!;
        string errors = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, errors);
    }

    [Fact]
    public void The_unit_passes_systemd_analyze_verify_without_a_warning()
    {
        var (exit, errors) = Verify(t => t);
        Assert.Equal(0, exit);
        Assert.Equal("", errors.Trim());
    }

    [Fact]
    public void The_verifier_does_catch_a_mistake()
    {
        var (_, errors) = Verify(t => t.Replace("WatchdogSec=10", "WatchdogSecs=10", StringComparison.Ordinal));
        Assert.Contains("Unknown key 'WatchdogSecs'", errors);
    }

    [Fact]
    public void The_unit_is_a_notify_service_with_a_watchdog_and_keeps_the_ring_and_cameras()
    {
        var lines = File.ReadAllLines(Unit).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (var required in new[] { "Type=notify", "WatchdogSec=10", "Restart=on-failure", "SupplementaryGroups=video", "DevicePolicy=closed",
            "DeviceAllow=char-video4linux rw", "ReadWritePaths=/dev/shm" })
            Assert.Contains(required, lines);
        // These would hide cameras, delete the shared memory, or break the .NET JIT (platform.md).
        Assert.DoesNotContain(lines, l => l.StartsWith("PrivateDevices=yes") || l.StartsWith("DynamicUser=yes") || l.StartsWith("MemoryDenyWriteExecute=yes") || l.StartsWith("RemoveIPC=yes"));
    }

    [Fact]
    public void The_units_exposure_by_systemd_analyze_security_is_at_most_3()
    {
        var info = new ProcessStartInfo("systemd-analyze") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "security", "--offline=true", Unit }) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        var match = System.Text.RegularExpressions.Regex.Match(output, @"Overall exposure level for dannet-edge\.service: (\d+\.\d)");
        Assert.True(match.Success, output);
        double exposure = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(exposure, 0, 3.0);
        // What the sandbox must still allow: the ring under /dev/shm, the cameras, the JIT, and no restart loop on a bad configuration.
        var lines = File.ReadAllLines(Unit).Select(l => l.Trim()).ToList();
        foreach (var required in new[] { "CapabilityBoundingSet=", "SystemCallFilter=@system-service", "SystemCallErrorNumber=EPERM", "RestartPreventExitStatus=2",
                     "UMask=0027", "RestrictNamespaces=yes" })
            Assert.Contains(required, lines);
    }
}
