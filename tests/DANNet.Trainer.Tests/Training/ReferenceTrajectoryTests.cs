using System.Text.Json.Nodes;
using DANNet.Trainer.Diagnostics;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Training;

/// <summary>
/// Our DANNet iteration against the reference's training loop (<c>trainer/benchmarks/reference_trajectory.py</c> on the official code) on
/// seeded PSPNet-ResNet-101 + LightNet + discriminators, 2 iterations of 2×3×32×32 batches in float64: the reference's run
/// (<c>trajectory-pspnet-f64.json</c>) and its control with the generator's adversarial weight at 0 (<c>trajectory-pspnet-f64-noadv.json</c>).
/// </summary>
/// <remarks>
/// The bounds, from the computation. Iteration 1 runs on the same weights and inputs on both sides: its float64 terms, and the norm of
/// the adversarial terms' gradient on the generator, must agree within the float32 rounding error of the same computation (our float32
/// run's distance from our float64 run), as the forward checks do. From
/// iteration 2 on the terms carry the first update, and with it the adversarial gradient: the reference's own control shows how far
/// each term moves when that gradient is removed, and ours must be a thousand times closer to the reference than that — a loop that
/// dropped, doubled or mis-routed the adversarial term (or fused pseudo labels from probabilities, or stepped in another order) cannot.
/// </remarks>
[Collection(DANNet.Trainer.Tests.Data.SynthNight.SerialCollection.Name)]
public sealed class ReferenceTrajectoryTests
{
    private const double AdversarialFraction = 1e-3;

    private static JsonObject Golden(string name) => ReferenceTrajectory.Read(ReferenceData.File_(name));

    private static double Term(JsonObject trajectory, int iteration, string name) =>
        trajectory["iterations"]![iteration]!["terms"]![name]!.GetValue<double>();

    private static double Moment(JsonObject trajectory, int snapshot, string net, string what) =>
        trajectory["snapshots"]![snapshot]![net]![what]!.GetValue<double>();

    [Fact]
    public void Two_iterations_follow_the_reference_loop_and_its_adversarial_term()
    {
        var reference = Golden("trajectory-pspnet-f64.json");
        var control = Golden("trajectory-pspnet-f64-noadv.json");
        var settings = ReferenceTrajectory.SettingsOf(reference, "trajectory-pspnet-f64.json");
        Assert.Equal(ScalarType.Float64, settings.DType);
        Assert.Equal(2, settings.Iterations);
        var ours = ReferenceTrajectory.Run(settings with { SnapshotEvery = 1 });
        Assert.Equal(1, settings.GradEvery);
        var ours32 = ReferenceTrajectory.Run(settings with { Iterations = 1, DType = ScalarType.Float32, SnapshotEvery = 1 });

        var names = reference["iterations"]![0]!["terms"]!.AsObject().Select(kv => kv.Key).ToList();
        Assert.Equal(9, names.Count); // seg, light ×3, adversarial ×2, static, discriminators ×2
        foreach (var name in names)
        {
            double r = Term(reference, 0, name), o = Term(ours, 0, name), bound = Math.Abs(Term(ours32, 0, name) - o);
            Assert.True(Math.Abs(o - r) <= bound, $"iteration 1, {name}: ours {o:R}, reference {r:R}, |Δ| {Math.Abs(o - r):E2} exceeds the float32 rounding {bound:E2}");
            Assert.Equal(r, Term(control, 0, name)); // the control differs only from the first update on

            r = Term(reference, 1, name);
            o = Term(ours, 1, name);
            double effect = Math.Abs(Term(control, 1, name) - r);
            Assert.True(effect > 0, $"iteration 2, {name}: the adversarial gradient did not move the reference's term");
            Assert.True(Math.Abs(o - r) <= AdversarialFraction * effect,
                $"iteration 2, {name}: ours {o:R}, reference {r:R}, |Δ| {Math.Abs(o - r):E2} is not within {AdversarialFraction} of the adversarial " +
                $"gradient's own effect {effect:E2}");
        }
        // The adversarial terms' own gradient on the generator, probed at iteration 1 (the same weights on both sides).
        double Probe(JsonObject t) => t["adversarialGradient"]![0]!["adversarial"]!.GetValue<double>();
        double ref0 = Probe(reference), our0 = Probe(ours), probeBound = Math.Abs(Probe(ours32) - our0);
        Assert.True(ref0 > 0, "the reference's adversarial gradient on the generator is zero");
        Assert.True(Math.Abs(our0 - ref0) <= probeBound,
            $"adversarial gradient norm at iteration 1: ours {our0:R}, reference {ref0:R}, |Δ| {Math.Abs(our0 - ref0):E2} exceeds the float32 rounding {probeBound:E2}");
        foreach (int snapshot in new[] { 0, 1 })
            foreach (var net in new[] { "segmentation", "light" })
                foreach (var what in new[] { "sum", "sumsq" })
                {
                    double r = Moment(reference, snapshot, net, what), o = Moment(ours, snapshot, net, what);
                    double effect = Math.Abs(Moment(control, snapshot, net, what) - r);
                    Assert.True(Math.Abs(o - r) <= AdversarialFraction * effect,
                        $"{net} parameters after iteration {snapshot + 1} ({what}): ours {o:R}, reference {r:R}, |Δ| {Math.Abs(o - r):E2}, adversarial effect {effect:E2}");
                }
    }

    [Fact]
    public void Windows_cover_the_run_by_decades()
    {
        Assert.Equal([(1L, 10L), (11L, 100L), (101L, 300L)], ReferenceTrajectory.Windows(300));
        Assert.Equal([(1L, 2L)], ReferenceTrajectory.Windows(2));
    }

    [Fact]
    public void A_file_that_is_not_a_trajectory_is_named()
    {
        var bad = JsonNode.Parse("""{"settings": {"iterations": 2, "size": 32, "batch": 2, "dtype": "bfloat16"}}""")!.AsObject();
        var ex = Assert.Throws<InvalidDataException>(() => ReferenceTrajectory.SettingsOf(bad, "x.json"));
        Assert.Contains("x.json: settings.dtype 'bfloat16'", ex.Message);
        Assert.Throws<InvalidDataException>(() => ReferenceTrajectory.SettingsOf(new JsonObject(), "y.json"));
    }

    [Fact]
    public void A_settled_start_is_read_from_the_trajectory_and_its_files_are_checked_before_anything_is_built()
    {
        using var folder = TinyTraining.Scratch("settled");
        Directory.CreateDirectory(folder);
        var hashes = new Dictionary<string, string>();
        foreach (string file in ReferenceTrajectory.InitFiles)
        {
            File.WriteAllText(Path.Combine(folder, file), "weights of " + file);
            hashes[file] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(folder, file))));
        }
        var trajectory = JsonNode.Parse("""{"settings": {"iterations": 2, "size": 32, "batch": 2, "dtype": "float32"}}""")!.AsObject();
        trajectory["settings"]!["init"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(hashes));
        var options = ReferenceTrajectory.SettingsOf(trajectory, "t.json");
        Assert.Equal(hashes, options.InitHashes);
        ReferenceTrajectory.CheckInit(folder, options.InitHashes);   // the files the run recorded: accepted

        File.AppendAllText(Path.Combine(folder, "light.pth"), "!");   // another LightNet than the reference started from
        var changed = Assert.Throws<InvalidDataException>(() => ReferenceTrajectory.Run(options with { Init = folder }));
        Assert.Contains(Path.Combine(folder, "light.pth"), changed.Message);
        Assert.Contains(hashes["light.pth"], changed.Message);

        File.Delete(Path.Combine(folder, "night.pth"));
        var missing = Assert.Throws<FileNotFoundException>(() => ReferenceTrajectory.CheckInit(folder, null));
        Assert.Contains("night.pth", missing.Message);
        Assert.Contains("--save", missing.Message);

        // A seeded trajectory has no init: nothing to check.
        var seeded = JsonNode.Parse("""{"settings": {"iterations": 2, "size": 32, "batch": 2, "dtype": "float32", "init": null}}""")!.AsObject();
        Assert.Null(ReferenceTrajectory.SettingsOf(seeded, "s.json").InitHashes);
    }

    [Fact]
    public void Window_statistics_are_the_term_means_and_the_median_adversarial_gradient_of_each_window()
    {
        // 12 iterations: windows 1-10 and 11-12. Term "a" is the 1-based iteration, "b" twice it. Probes at iterations 1, 6 and 11.
        var its = new JsonArray();
        for (int it = 0; it < 12; it++) its.Add(new JsonObject { ["it"] = it, ["terms"] = new JsonObject { ["a"] = it + 1.0, ["b"] = 2.0 * (it + 1) } });
        var probes = new JsonArray(
            new JsonObject { ["it"] = 0, ["adversarial"] = 1.0, ["generator"] = 100.0 },
            new JsonObject { ["it"] = 5, ["adversarial"] = 3.0, ["generator"] = 50.0 },
            new JsonObject { ["it"] = 10, ["adversarial"] = 0.5, ["generator"] = 10.0 });
        var trajectory = new JsonObject { ["iterations"] = its, ["adversarialGradient"] = probes };

        var means = ReferenceTrajectory.WindowMeans(trajectory);
        Assert.Equal(["a", "b"], means.Select(m => m.Term));
        Assert.Equal([5.5, 11.5], means[0].PerWindow);
        Assert.Equal([11.0, 23.0], means[1].PerWindow);

        var gradients = ReferenceTrajectory.GradientMedians(trajectory);
        Assert.Equal(2, gradients.Count);
        Assert.Equal(2.0, gradients[0].Norm, 12);                 // median of 1 and 3
        Assert.Equal((0.01 + 0.06) / 2, gradients[0].Share, 12);  // median of 1/100 and 3/50
        Assert.Equal(0.5, gradients[1].Norm, 12);
        Assert.Equal(0.05, gradients[1].Share, 12);

        trajectory.Remove("adversarialGradient");                 // a run without probes: no medians, not zeros
        Assert.All(ReferenceTrajectory.GradientMedians(trajectory), g => Assert.True(double.IsNaN(g.Norm) && double.IsNaN(g.Share)));
    }
}
