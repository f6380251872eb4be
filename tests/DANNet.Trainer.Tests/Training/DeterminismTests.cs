using System.Text.Json.Nodes;
using DANNet.Trainer.Diagnostics;
using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Training;

namespace DANNet.Trainer.Tests.Training;

/// <summary>
/// Same config and seed on the same machine → bit-identical metrics, every loss term of every
/// iteration. The stress variant runs the same training while the garbage collector and the
/// finalizer run as often as they can: a native object (a TorchSharp Scalar or tensor) that is
/// released while libtorch still reads it turns into garbage values or NaNs there, so this is the
/// test that catches a lifetime bug before a long run does.
/// </summary>
[Collection(TinySynthNightCollection.Name)]
public sealed class DeterminismTests(TinySynthNightFixture data)
{
    private const int Iterations = 4;

    private TrainingConfig Tiny() => TinyTraining.Config(data, Iterations, checkpointEvery: 100);

    /// <summary>The metrics file without its wall-clock field (<c>itPerSec</c>), line by line.</summary>
    private static List<string> Metrics(string runDir) =>
        File.ReadAllLines(Path.Combine(runDir, DannetTrainer.MetricsFile))
            .Select(l => { var n = JsonNode.Parse(l)!.AsObject(); n.Remove("itPerSec"); return n.ToJsonString(); })
            .ToList();

    private List<string> Train(string name, IProgress<TrainingProgress>? progress = null)
    {
        string dir = TinyTraining.NewDir(name);
        try
        {
            new DannetTrainer(Tiny(), dir).Run(resume: false, progress);
            return Metrics(dir);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void The_same_config_and_seed_give_bit_identical_metrics()
    {
        var first = Train("determinism-a");
        var second = Train("determinism-b");
        Assert.Equal(Iterations + 1, first.Count); // a step line per iteration and the final evaluation
        Assert.All(first.Take(Iterations), l => Assert.Contains("\"adv_night\":", l));
        Assert.Equal(first, second);
    }

    [Fact]
    public void Forced_collections_and_finalizers_change_nothing()
    {
        var reference = Train("gc-reference");
        List<string> stressed;
        using (var hammer = new CollectionHammer())
        {
            stressed = Train("gc-stress", new InlineProgress<TrainingProgress>(_ =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }));
            Assert.True(hammer.Collections > 0, "the collector thread never ran");
        }
        Assert.Equal(reference, stressed);
    }
}
