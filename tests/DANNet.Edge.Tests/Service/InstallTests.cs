using DANNet.Edge.Tests.SharedMemory;

namespace DANNet.Edge.Tests.Service;

/// <summary>systemd/install.sh into a temporary root (DESTDIR), with the test's own build as the published program.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class InstallTests() : RingFolderTests("dannet-install-")
{
    private static readonly string Script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "systemd", "install.sh"));

    private (int Code, string Output) Install(params string[] args) =>
        RingProcesses.Finish(RingProcesses.Start("env", ["DESTDIR=" + Path.Combine(Dir, "root"), Script, "--publish-dir", AppContext.BaseDirectory, .. args]));

    private string InRoot(string path) => Path.Combine(Dir, "root", path.TrimStart('/'));

    private Dictionary<string, string> Tree() =>
        Directory.EnumerateFiles(Path.Combine(Dir, "root"), "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(Path.Combine(Dir, "root"), f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public void Installs_the_tree_again_without_change_keeps_a_changed_configuration_and_uninstalls()
    {
        string model = Path.Combine(Dir, "night.onnx");
        File.Copy(EdgeDefaults.ModelPath, model);
        var first = Install("--model", model);
        Assert.True(first.Code == 0, first.Output);
        Assert.True(File.Exists(InRoot("/opt/dannet-edge/dannet-edge")));
        Assert.True(File.GetUnixFileMode(InRoot("/opt/dannet-edge/dannet-edge")).HasFlag(UnixFileMode.UserExecute));
        Assert.True(File.Exists(InRoot("/opt/dannet-edge/README.md"))); // the unit's Documentation=
        Assert.True(File.Exists(InRoot("/opt/dannet-edge/docs/shm-layout.md")));
        Assert.Equal(File.ReadAllText(Path.Combine(Path.GetDirectoryName(Script)!, "dannet-edge.service")), File.ReadAllText(InRoot("/etc/systemd/system/dannet-edge.service")));
        Assert.Equal(File.ReadAllBytes(model), File.ReadAllBytes(InRoot("/var/lib/dannet-edge/models/model.onnx")));
        string config = InRoot("/etc/dannet-edge/dannet-edge.json");
        Assert.Contains("/var/lib/dannet-edge/models/model.onnx", File.ReadAllText(config)); // the config names the installed model
        Assert.Contains("Documentation=file:///opt/dannet-edge/README.md", File.ReadAllText(InRoot("/etc/systemd/system/dannet-edge.service")));

        // Idempotent: a second run leaves every file as it was and adds none.
        var before = Tree();
        var second = Install();
        Assert.True(second.Code == 0, second.Output);
        Assert.Equal(before, Tree());
        Assert.Contains("unchanged", second.Output);

        // A configuration changed on the car is never overwritten: the shipped one goes next to it.
        File.AppendAllText(config, "\n");
        string changed = File.ReadAllText(config);
        var third = Install();
        Assert.Equal(0, third.Code);
        Assert.Equal(changed, File.ReadAllText(config));
        Assert.True(File.Exists(config + ".new"));
        Assert.Contains("kept your changed configuration", third.Output);

        var removed = RingProcesses.Finish(RingProcesses.Start("env", ["DESTDIR=" + Path.Combine(Dir, "root"), Script, "--uninstall"]));
        Assert.Equal(0, removed.Code);
        Assert.False(Directory.Exists(InRoot("/opt/dannet-edge")));
        Assert.False(File.Exists(InRoot("/etc/systemd/system/dannet-edge.service")));
        Assert.True(File.Exists(config)); // configuration and models stay unless --purge
        Assert.True(File.Exists(InRoot("/var/lib/dannet-edge/models/model.onnx")));
    }

    [Fact]
    public void Bad_options_are_refused_with_the_reason()
    {
        var (code, output) = Install("--rid", "win-x64");
        Assert.Equal(0, code); // --publish-dir given: no build, --rid unused
        var missing = Install("--model", Path.Combine(Dir, "none.onnx"));
        Assert.Equal(2, missing.Code);
        Assert.Contains("--model", missing.Output);
        var unknown = Install("--frobnicate");
        Assert.Equal(2, unknown.Code);
        Assert.Contains("unknown option '--frobnicate'", unknown.Output);
        Assert.Contains("program:", output);
    }
}
