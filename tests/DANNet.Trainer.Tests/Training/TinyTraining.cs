using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Training;

namespace DANNet.Trainer.Tests.Training;

/// <summary>The training tests' run: a tiny edge net on the tiny SynthNight set, one thread, every iteration logged.</summary>
public static class TinyTraining
{
    public static TrainingConfig Config(TinySynthNightFixture data, int iterations, TrainingMode mode = TrainingMode.Dannet, int checkpointEvery = 3) =>
        TrainingConfigLoader.Load(null,
        [
            $"mode=\"{mode}\"",
            $"data.source=\"{data.Cityscapes}\"",
            $"data.target=\"{data.DarkZurich}\"",
            "model.architecture=\"pspnet-r18-w0.25-l4\"",
            $"optim.iterations={iterations}",
            "augment.sourceCrop=64",
            "augment.targetResize=64",
            "run.evalHeight=72",
            "run.evalWidth=128",
            $"run.checkpointEvery={checkpointEvery}",
            "run.keepCheckpoints=2",
            "run.logEvery=1",
            "run.threads=1",
        ]);

    /// <summary>Every logged training step of a run as "iteration terms-json", for bit-exact comparisons of two runs.</summary>
    public static List<string> Steps(string runDir) =>
        File.ReadAllLines(Path.Combine(runDir, DannetTrainer.MetricsFile))
            .Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!)
            .Where(n => n["terms"] is not null)
            .Select(n => $"{n["iteration"]} {n["terms"]!.ToJsonString()}")
            .ToList();

    /// <summary>
    /// A new folder name under the temporary directory (not created). The test deletes it when done; whatever a failed or
    /// forgotten test leaves is deleted when the test process exits, so runs never pile up on the disk (a full disk failed CI).
    /// </summary>
    public static string NewDir(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), "dannet-tests", name + "-" + Guid.NewGuid().ToString("N"));
        s_handedOut.Add(dir);
        return dir;
    }

    /// <summary>A folder from <see cref="NewDir"/> that is deleted, with everything in it, when disposed.</summary>
    public static ScratchFolder Scratch(string name) => new(NewDir(name));

    public sealed class ScratchFolder(string path) : IDisposable
    {
        public string Path { get; } = path;
        public static implicit operator string(ScratchFolder folder) => folder.Path;
        public void Dispose() => DeleteIfPresent(Path);
    }

    private static readonly System.Collections.Concurrent.ConcurrentBag<string> s_handedOut = [];

    static TinyTraining() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (string dir in s_handedOut) DeleteIfPresent(dir);
    };

    private static void DeleteIfPresent(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
        catch (IOException) { }                  // a file still open at exit: the next cleanup gets it
        catch (UnauthorizedAccessException) { }
    }
}
