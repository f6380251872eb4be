using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DANNet.System.Tests;

/// <summary>
/// <c>apt-get install ./dannet-edge_*.deb &amp;&amp; systemctl start dannet-edge</c> on a minimal Debian
/// under a real systemd (README, "Running on the car"): the service runs, is hardened, shares its
/// ring with its group only, recovers from a stall, refuses a bad configuration once, stops cleanly,
/// logs no stack trace, and purges without a trace. Steps run in name order.
/// </summary>
[Collection(SystemCollection.Name)]
[TestCaseOrderer("DANNet.System.Tests.OrderByName", "DANNet.System.Tests")]
public sealed class PackagedServiceTests(PackagedService service, ITestOutputHelper log) : IClassFixture<PackagedService>
{
    private DebianContainer Box
    {
        get
        {
            Skip.If(service.SkipReason is not null, service.SkipReason);
            return service.Container!;
        }
    }

    /// <summary>A time systemctl shows as whole seconds ("10s").</summary>
    private static double Seconds(string shown) =>
        Regex.Match(shown, @"^(\d+)s$") is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new FormatException($"systemctl showed '{shown}', expected whole seconds such as 10s");

    [SkippableFact]
    public void Step1_the_package_alone_gives_an_active_service_that_publishes_masks()
    {
        var box = Box;
        foreach (var note in service.Notes) log.WriteLine(note);
        Assert.Equal("active", service.Show("ActiveState"));
        // READY comes with the first mask; the frame rate joins STATUS at the first statistics interval.
        var clock = Stopwatch.StartNew();
        while (!service.Show("StatusText").Contains("fps", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(250);
        Assert.Matches(@"cpu, [0-9.]+ fps, \d+ masks, source reading", service.Show("StatusText"));
        Assert.Contains("install ok installed", box.Must("dpkg-query -W -f='${Status}' dannet-edge"));
        // .NET opens OpenSSL with dlopen (no NEEDED entry): the package depends on it by its native-dependencies.tsv row.
        Assert.Contains("libssl3", box.Must("dpkg-query -W -f='${Depends}' dannet-edge"));
        box.Must("test -x /usr/bin/dannet-edge && test -f /var/lib/dannet-edge/models/model.onnx");
        log.WriteLine("STATUS: " + service.Show("StatusText"));
    }

    [SkippableFact]
    public void Step2_the_real_systemd_rates_the_unit_at_most_3_0()
    {
        string report = Box.Must("systemd-analyze security dannet-edge 2>&1");
        var m = Regex.Match(report, @"Overall exposure level for dannet-edge\.service: ([0-9.]+)");
        Assert.True(m.Success, report);
        double exposure = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        log.WriteLine($"systemd-analyze security dannet-edge: {exposure}");
        Assert.True(exposure <= 3.0, $"exposure {exposure} > 3.0:\n{report}");
    }

    [SkippableFact]
    public void Step3_a_member_of_the_group_reads_masks_and_another_user_cannot()
    {
        var box = Box;
        box.Must("id reader >/dev/null 2>&1 || useradd -m -G dannet reader; id outsider >/dev/null 2>&1 || useradd -m outsider");
        string read = box.Must($"runuser -u reader -- dannet-edge tap --path {PackagedService.Ring} --owner dannet --frames 3 --seconds 20 2>&1", 60);
        log.WriteLine("reader: " + read.Trim());
        Assert.Matches(@"read [3-9]\d* frames", read);
        Assert.Contains("writer alive", read);
        string refused = box.Exec($"runuser -u outsider -- dannet-edge tap --path {PackagedService.Ring} --owner dannet --frames 1 --seconds 2 2>&1", 60).Output;
        log.WriteLine("outsider: " + refused.Trim());
        Assert.Contains("Permission denied", refused);
        Assert.Contains("read 0 frames", refused);
    }

    [SkippableFact]
    public void Step4_a_stalled_daemon_is_replaced_within_WatchdogSec_plus_3_s()
    {
        var box = Box;
        double watchdog = Seconds(service.Show("WatchdogUSec"));
        string old = service.Show("MainPID");
        box.Must($"kill -STOP {old}");
        var clock = Stopwatch.StartNew();
        string now = old;
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && (now == old || now == "0"))
        {
            Thread.Sleep(100);
            now = service.Show("MainPID");
        }
        double replaced = clock.Elapsed.TotalSeconds;
        while (clock.Elapsed < TimeSpan.FromSeconds(90) && service.Show("ActiveState") != "active") Thread.Sleep(200);
        log.WriteLine($"SIGSTOP at 0 s; new main PID {now} after {replaced:F1} s; active again after {clock.Elapsed.TotalSeconds:F1} s (WatchdogSec {watchdog})");
        Assert.NotEqual(old, now);
        Assert.True(replaced <= watchdog + 3, $"the stalled daemon was replaced after {replaced:F1} s, more than WatchdogSec {watchdog} + 3 s");
        Assert.Contains("Failed with result 'watchdog'", box.Must("journalctl -u dannet-edge --no-pager"));
        Assert.Equal("active", service.Show("ActiveState"));
    }

    [SkippableFact]
    public void Step5_a_bad_configuration_exits_2_once_and_is_not_restarted()
    {
        var box = Box;
        try
        {
            service.WriteConfiguration("""{ "Output": { "Slots": 0 } }""");
            // A manual restart resets systemd's restart counter: from here on it counts automatic restarts only.
            var (code, _) = box.Exec("systemctl restart dannet-edge", 120);
            Assert.NotEqual(0, code);
            Thread.Sleep(5000);   // more than twice RestartSec: a restart loop would show by now
            log.WriteLine($"bad configuration: ActiveState {service.Show("ActiveState")}, ExecMainStatus {service.Show("ExecMainStatus")}, " +
                $"NRestarts {service.Show("NRestarts")}");
            Assert.Equal("2", service.Show("ExecMainStatus"));
            Assert.Equal("failed", service.Show("ActiveState"));
            Assert.Equal("0", service.Show("NRestarts"));
            Assert.Contains("Output:Slots must be 2..1024, got 0", box.Must("journalctl -u dannet-edge --no-pager -n 20"));
        }
        finally
        {
            service.WriteConfiguration(PackagedService.GoodConfiguration);
            box.Exec("systemctl reset-failed dannet-edge; systemctl start dannet-edge", 180);
        }
        Assert.Equal("active", service.Show("ActiveState"));
    }

    [SkippableFact]
    public void Step6_stop_ends_the_daemon_within_TimeoutStopSec_and_marks_the_ring_stopped()
    {
        var box = Box;
        double limit = Seconds(service.Show("TimeoutStopUSec"));
        var clock = Stopwatch.StartNew();
        box.Must("systemctl stop dannet-edge", 120);
        double took = clock.Elapsed.TotalSeconds;
        log.WriteLine($"systemctl stop took {took:F2} s (TimeoutStopSec {limit}); result {service.Show("Result")}");
        Assert.True(took < limit, $"stop took {took:F1} s");
        Assert.Equal("inactive", service.Show("ActiveState"));
        Assert.Equal("success", service.Show("Result"));
        string tap = box.Must($"runuser -u reader -- dannet-edge tap --path {PackagedService.Ring} --owner dannet --any-writer --frames 1 --seconds 3 2>&1", 60);
        Assert.Contains("writer stopped", tap);
    }

    [SkippableFact]
    public void Step7_the_journal_holds_no_stack_trace()
    {
        string journal = Box.Must("journalctl -u dannet-edge --no-pager -o cat");
        var traces = journal.Split('\n').Where(l => Regex.IsMatch(l, @"^\s+at \S+\(|Unhandled exception|--- End of")).ToList();
        Assert.True(traces.Count == 0, "stack trace lines in the journal:\n" + string.Join('\n', traces.Take(10)));
    }

    /// <summary>
    /// The validator image's recipe (deploy/validator/Dockerfile: Debian 12, this package, ffmpeg, then its self-check) on the same
    /// Debian 12 — no Docker engine runs here, so the image's steps run in this container, the self-check as the image's user.
    /// </summary>
    [SkippableFact]
    public void Step7b_the_validator_image_recipe_passes_its_self_check_as_an_unprivileged_user()
    {
        var box = Box;
        box.Must("DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg 2>&1", 900);
        string output = box.Must("setpriv --reuid=65532 --regid=65532 --clear-groups sh /srv/validator/smoke.sh 2>&1", 300);
        log.WriteLine(output.Trim());
        Assert.Contains("validator self-check: ok", output);
    }

    [SkippableFact]
    public void Step8_purge_leaves_no_unit_user_or_state()
    {
        var box = Box;
        box.Must("DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq dannet-edge 2>&1", 300);
        foreach (var path in new[] { "/lib/systemd/system/dannet-edge.service", "/etc/systemd/system/multi-user.target.wants/dannet-edge.service",
                     "/opt/dannet-edge", "/etc/dannet-edge", "/var/lib/dannet-edge", "/var/cache/dannet-edge", "/dev/shm/dannet-edge", "/usr/bin/dannet-edge" })
            Assert.True(box.Exec($"test -e {path} || test -L {path}").Code != 0, $"{path} is still there after purge");
        Assert.NotEqual(0, box.Exec("getent passwd dannet").Code);
        Assert.Equal("not-found", service.Show("LoadState"));
    }
}
