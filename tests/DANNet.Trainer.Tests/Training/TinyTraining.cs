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

    /// <summary>A new folder under the temporary directory.</summary>
    public static string NewDir(string name) => Path.Combine(Path.GetTempPath(), "dannet-tests", name + "-" + Guid.NewGuid().ToString("N"));
}
