using System.Diagnostics;

namespace DANNet.System.Tests;

/// <summary>
/// The Debian package of dannet-edge (systemd/make-deb.sh, this machine's default variant) installed
/// with apt into a freshly booted minimal Debian — nothing else installed by hand — configured to
/// segment the committed night drive in a loop, and started with <c>systemctl start dannet-edge</c>.
/// </summary>
public sealed class PackagedService : IDisposable
{
    public const string Ring = "/dev/shm/dannet-edge/masks";

    /// <summary>The configuration the tests run with: the night drive, looped, on the CPU, one thread (the machine has two cores).</summary>
    public const string GoodConfiguration = """
        {
          "Source": { "Uri": "/srv/drive/synthnight-night-drive-640x360.avi", "Loop": true, "Realtime": true },
          "Model": { "Path": "/var/lib/dannet-edge/models/model.onnx", "Providers": [ "cpu" ], "Threads": 1 },
          "Output": { "Directory": "/dev/shm/dannet-edge", "Path": "masks", "Mode": "0640", "Group": "dannet" },
          "Run": { "StatsIntervalSeconds": 2 }
        }
        """;

    private readonly string _debs = Directory.CreateTempSubdirectory("dannet-debs-").FullName;

    public PackagedService()
    {
        SkipReason = DebianContainer.WhyNot();
        if (SkipReason is not null) return;
        var clock = Stopwatch.StartNew();
        DebianContainer.EnsureCache(Say);
        Say($"building the package ({clock.Elapsed.TotalSeconds:F0} s)");
        string built = Host.Run(1200, "bash", Path.Combine(RepositoryRoot, "systemd", "make-deb.sh"), "--compression", "none", "--out", _debs);
        Say(built.Trim());
        DebFile = Directory.GetFiles(_debs, "*.deb").Single();
        try
        {
            Container = DebianContainer.Boot(new Dictionary<string, string> { [_debs] = "/debs", [Path.Combine(RepositoryRoot, "assets")] = "/srv/drive",
                [Path.Combine(RepositoryRoot, "deploy", "validator")] = "/srv/validator" },
                TimeSpan.FromSeconds(90));
        }
        catch (ContainerCannotBootException ex)
        {
            SkipReason = $"no container boots here: {ex.Message}";
            return;
        }
        Say($"container booted ({clock.Elapsed.TotalSeconds:F0} s); apt-get install {Path.GetFileName(DebFile)}");
        Container.Must($"DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /debs/{Path.GetFileName(DebFile)} 2>&1", 900);
        WriteConfiguration(GoodConfiguration);
        var start = Stopwatch.StartNew();
        Container.Must("systemctl start dannet-edge", 180);
        Say($"systemctl start dannet-edge returned after {start.Elapsed.TotalSeconds:F1} s (READY); set-up took {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>Why the system test cannot run here, or null.</summary>
    public string? SkipReason { get; }

    public DebianContainer? Container { get; }

    public string DebFile { get; } = "";

    public List<string> Notes { get; } = [];

    private void Say(string line) => Notes.Add(line);

    /// <summary>Replaces /etc/dannet-edge/dannet-edge.json in the container.</summary>
    public void WriteConfiguration(string json) => Container!.Must($"cat > /etc/dannet-edge/dannet-edge.json <<'JSON'\n{json}\nJSON");

    /// <summary>A property of the unit (systemctl show --value).</summary>
    public string Show(string property) => Container!.Must($"systemctl show -p {property} --value dannet-edge").Trim();

    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DANNet.Edge.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"Cannot find the repository root above {AppContext.BaseDirectory}.");
    }

    public void Dispose()
    {
        Container?.Dispose();
        Directory.Delete(_debs, true);
    }
}
