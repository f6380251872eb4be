using System.Text.Json;
using System.Text.Json.Nodes;
using DANNet.Trainer.Losses;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Checkpoints;
using DANNet.Trainer.Torch;
using DANNet.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DANNet.Trainer.Diagnostics;

/// <summary>
/// Our DANNet iteration (<see cref="DannetIteration"/>, the trainer's optimisers and poly schedule) on the seeded nets and inputs of
/// <c>trainer/benchmarks/reference_trajectory.py</c>, which runs the reference's training loop on the same: PSPNet (ResNet-101) behind
/// LightNet (its last convolution × 2^-6), two discriminators (keys prefixed "day." and "night." for their seeded weights), Dropout2d at
/// p = 0 on both sides, every input drawn from the key "it{k}.source" etc. The result has the script's JSON shape (loss terms per iteration, parameter moments).
/// </summary>
public static class ReferenceTrajectory
{
    /// <summary>LightNet's last convolution, scaled by 2^-6 (exact) after seeding so the residual starts small — as the script does.</summary>
    private static readonly string[] LightOutput = ["model.20.weight", "model.20.bias"];
    private static readonly Scalar LightOutputScale = Math.Pow(2, -6).ToScalar();

    /// <param name="Init">A folder of the script's <c>--save</c> (segmentation.pth, light.pth, day.pth, night.pth): a settled start instead of
    /// the seeded one; <paramref name="InitHashes"/> are the SHA-256 the reference's run recorded for those files (checked before loading).</param>
    public sealed record Options(int Iterations, int Size, int Batch, ScalarType DType, int SnapshotEvery, double AdversarialWeight = 0.01, int GradEvery = 0,
        double GeneratorLr = 2.5e-4, string? Init = null, IReadOnlyDictionary<string, string>? InitHashes = null);

    /// <summary>The files of a settled start, by net, as the script's <c>--save</c> names them.</summary>
    public static readonly IReadOnlyList<string> InitFiles = ["segmentation.pth", "light.pth", "day.pth", "night.pth"];

    /// <summary>The iteration's inputs, as the script's <c>batch</c> makes them.</summary>
    public static (LabelledBatch Labelled, PairBatch Pairs) Inputs(long it, int n, int size, ScalarType dtype)
    {
        Tensor Unit(string what, params long[] shape) => SeededWeights.Units($"it{it}.{what}", shape).to(dtype);
        using var s = new ScalarScope();
        var source = Unit("source", n, 3, size, size).mul(s[1.5]);
        var day = Unit("day", n, 3, size, size).mul(s[1.5]);
        var night = Unit("night", n, 3, size, size).mul(s[0.5]).sub(s[1.2]);
        var labels = Unit("labels", n, size, size).Plus(s[1]).mul(s[9.5]).floor().to(ScalarType.Int64).clamp(s[0], s[18]);
        labels.masked_fill_(Unit("ignore", n, size, size).lt(s[-0.8]), s[255]);
        return (new LabelledBatch(source, labels), new PairBatch(day, night));
    }

    /// <summary>Runs our loop; <paramref name="progress"/> hears after each iteration (its index, 1-based, and its terms).</summary>
    public static JsonObject Run(Options o, Action<long, IReadOnlyDictionary<string, double>>? progress = null)
    {
        if (o.Init is not null) CheckInit(o.Init, o.InitHashes);
        using var scope = NewDisposeScope();
        var config = new TrainingConfig
        {
            Optim = new OptimConfig { Iterations = o.Iterations, GeneratorLr = o.GeneratorLr },
            Loss = new LossConfig { AdversarialWeight = o.AdversarialWeight },
        };
        Nnpack.SwitchOffWhereUnavailable(); // float64 convolutions ask for NNPACK too
        using var nets = DannetNets.Create(ArchitectureSpec.Parse("pspnet-r101"), relighting: true, withDiscriminators: true);
        if (o.Init is { } init)
            StartFrom(init, nets);
        else
        {
            SeededWeights.Fill(nets.Segmentation);
            SeededWeights.Fill(nets.Light!);
            SeededWeights.Fill(nets.DayDiscriminator!, "day.");
            SeededWeights.Fill(nets.NightDiscriminator!, "night.");
            using (no_grad())
                foreach (var (name, p) in nets.Light!.named_parameters())
                    if (LightOutput.Contains(name)) p.mul_(LightOutputScale);
        }
        foreach (var (_, net) in nets.Named()) net.to(o.DType);
        // float32 runs on the kernels training runs on: checked (and repaired) as training checks them; float64 has no oneDNN kernels.
        string? kernels = o.DType == ScalarType.Float32 ? ConvolutionCheck.EnsureCorrect(nets.ByName(), CPU) : null;
        foreach (var dropout in nets.Segmentation.modules().OfType<Dropout2d>()) dropout.p = 0;
        // The class weights computed in double and rounded to float32, as the script makes the reference's (then in the run's precision).
        using var weights = tensor(ClassWeights.FromFrequencies(ClassWeights.CityscapesFrequencies, config.Loss.TrainStrength)).to(o.DType);
        var (generator, discriminators) = DannetTrainer.Optimizers(nets, config.Optim, withDiscriminators: true);
        var iteration = new DannetIteration(nets, config, weights);

        var iterations = new JsonArray();
        var snapshots = new JsonArray();
        var gradients = new JsonArray();
        for (long it = 0; it < o.Iterations; it++)
        {
            using var step = NewDisposeScope();
            DannetTrainer.Schedule(config.Optim, it, generator, discriminators);
            var (labelled, pairs) = Inputs(it, o.Batch, o.Size, o.DType);
            bool probe = o.GradEvery > 0 && it % o.GradEvery == 0;
            double adversarialNorm = probe ? AdversarialGradientNorm(nets, pairs, o.AdversarialWeight) : 0;
            var terms = IterationTerms.ReadBack([(it, iteration.Run(it, labelled, pairs, generator, discriminators))]);
            if (probe)
                gradients.Add(new JsonObject { ["it"] = it, ["adversarial"] = adversarialNorm, ["generator"] = GradientNorm(nets.GeneratorParameters()) });
            var t = new JsonObject();
            foreach (var (name, value) in terms) t[name] = value;
            iterations.Add(new JsonObject { ["it"] = it, ["terms"] = t });
            progress?.Invoke(it + 1, terms);
            if ((it + 1) % o.SnapshotEvery == 0 || it + 1 == o.Iterations)
                snapshots.Add(new JsonObject
                {
                    ["after"] = it + 1,
                    ["segmentation"] = Moments(nets.Segmentation),
                    ["light"] = Moments(nets.Light!),
                    ["dayDiscriminator"] = Moments(nets.DayDiscriminator!),
                    ["nightDiscriminator"] = Moments(nets.NightDiscriminator!),
                });
        }
        return new JsonObject
        {
            ["settings"] = new JsonObject
            {
                ["iterations"] = o.Iterations, ["size"] = o.Size, ["batch"] = o.Batch, ["dtype"] = o.DType.ToString().ToLowerInvariant(),
                ["adversarialWeight"] = o.AdversarialWeight, ["generatorLr"] = o.GeneratorLr, ["kernels"] = kernels,
                ["init"] = o.InitHashes is null ? null : new JsonObject(o.InitHashes.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            },
            ["iterations"] = iterations,
            ["snapshots"] = snapshots,
            ["adversarialGradient"] = gradients,
        };
    }

    /// <summary>
    /// Checks a settled start before anything is built: each of <see cref="InitFiles"/> exists in <paramref name="folder"/> and, where the
    /// reference's run recorded hashes, has the SHA-256 it recorded.
    /// </summary>
    public static void CheckInit(string folder, IReadOnlyDictionary<string, string>? hashes)
    {
        foreach (string file in InitFiles)
        {
            string path = Path.Combine(folder, file);
            if (!File.Exists(path))
                throw new FileNotFoundException($"{path}: the settled start has no {file} (make the folder with reference_trajectory.py --save).", path);
            if (hashes is null) continue;
            string actual;
            using (var stream = File.OpenRead(path))
                actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
            if (!hashes.TryGetValue(file, out var expected) || expected != actual)
                throw new InvalidDataException($"{path}: SHA-256 {actual} is not the {expected ?? "(none recorded)"} the reference's run started from: " +
                    "pass the folder its --init read.");
        }
    }

    /// <summary>Loads the four nets of a settled start (checked by <see cref="CheckInit"/>), strictly: every key of each net, no other.</summary>
    private static void StartFrom(string folder, DannetNets nets)
    {
        nn.Module[] targets = [nets.Segmentation, nets.Light!, nets.DayDiscriminator!, nets.NightDiscriminator!];
        foreach (var (file, net) in InitFiles.Zip(targets)) Checkpoint.Load(net, Path.Combine(folder, file));
    }

    /// <summary>
    /// The norm of the adversarial terms' gradient on the generator (LightNet + segmentation net) at the iteration's weights and inputs, as
    /// the script's probe measures it: a forward of its own (BatchNorm normalises with the batch in training mode and dropout is off, so
    /// the iteration that follows is unchanged), the discriminators fixed.
    /// </summary>
    private static double AdversarialGradientNorm(DannetNets nets, PairBatch pairs, double weight)
    {
        using var scope = NewDisposeScope();
        nets.Train();
        nets.DayDiscriminator!.SetRequiresGrad(false);
        nets.NightDiscriminator!.SetRequiresGrad(false);
        Tensor Adversarial(Tensor x, nn.Module<Tensor, Tensor> d)
        {
            var (_, logits) = nets.Forward(x);
            return DannetIteration.GeneratorAdversarial(d, DannetNets.Upsample(logits, x.shape[2], x.shape[3]));
        }
        using var s = new ScalarScope();
        var loss = Adversarial(pairs.Day, nets.DayDiscriminator!).Plus(Adversarial(pairs.Night, nets.NightDiscriminator!)).mul(s[weight]);
        var generator = nets.GeneratorParameters();
        return Norm(autograd.grad([loss], [.. generator], allow_unused: true));
    }

    /// <summary>The norm of the gradients the parameters hold.</summary>
    private static double GradientNorm(IEnumerable<Parameter> parameters) => Norm(parameters.Select(p => p.grad));

    /// <summary>The Euclidean norm of several tensors taken as one vector, in float64; absent (unused) gradients count as zero.</summary>
    private static double Norm(IEnumerable<Tensor?> tensors)
    {
        using var scope = NewDisposeScope();
        return Math.Sqrt(tensors.Where(g => g is not null && !g.IsInvalid && g.numel() > 0).Sum(g => (g! * g!).sum().to(ScalarType.Float64).item<double>()));
    }

    /// <summary>Sum and sum of squares of a net's parameters, in the run's precision (the script's <c>moments</c>).</summary>
    private static JsonObject Moments(nn.Module net)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ps = net.parameters().ToList();
        double sum = ps.Select(p => p.sum()).Aggregate((a, b) => a.Plus(b)).to(ScalarType.Float64).item<double>();
        double sumsq = ps.Select(p => (p * p).sum()).Aggregate((a, b) => a.Plus(b)).to(ScalarType.Float64).item<double>();
        return new JsonObject { ["sum"] = sum, ["sumsq"] = sumsq };
    }

    /// <summary>A trajectory file (the script's output or <see cref="Run"/>'s).</summary>
    public static JsonObject Read(string path) =>
        JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"{path}: not a JSON object");

    /// <summary>The options a trajectory file was run with (its <c>settings</c>).</summary>
    public static Options SettingsOf(JsonObject trajectory, string path)
    {
        var settings = trajectory["settings"]?.AsObject() ?? throw new InvalidDataException($"{path}: no 'settings' (not a trajectory file)");
        int Int(string name) => settings[name]?.GetValue<int>() ?? throw new InvalidDataException($"{path}: settings.{name} is missing");
        var dtype = settings["dtype"]?.GetValue<string>() switch
        {
            "float32" => ScalarType.Float32,
            "float64" => ScalarType.Float64,
            var other => throw new InvalidDataException($"{path}: settings.dtype '{other}' is neither float32 nor float64"),
        };
        int gradEvery = trajectory["adversarialGradient"]?.AsArray() is { Count: > 1 } probes ? probes[1]!["it"]!.GetValue<int>() - probes[0]!["it"]!.GetValue<int>() : 0;
        double lr = settings["generatorLr"]?.GetValue<double>() ?? new OptimConfig().GeneratorLr;
        var initHashes = settings["init"] is JsonObject init
            ? init.ToDictionary(kv => kv.Key, kv => kv.Value?.GetValue<string>() ?? throw new InvalidDataException($"{path}: settings.init.{kv.Key} is not a hash"))
            : null;
        return new Options(Int("iterations"), Int("size"), Int("batch"), dtype, SnapshotEvery: 10, GradEvery: gradEvery, GeneratorLr: lr, InitHashes: initHashes);
    }

    /// <summary>One loss term's largest relative difference |ours − reference| / |reference| within each window of iterations.</summary>
    public sealed record TermDifference(string Term, IReadOnlyList<double> PerWindow, double Last);

    /// <summary>The windows the comparison reports: iterations 1–10, 11–100, 101–1000, … up to the run's length.</summary>
    public static List<(long From, long To)> Windows(long iterations)
    {
        var windows = new List<(long, long)>();
        for (long from = 1, to = 10; from <= iterations; from = to + 1, to *= 10) windows.Add((from, Math.Min(to, iterations)));
        return windows;
    }

    /// <summary>Term by term, iteration by iteration: how far our trajectory is from the reference's (both of the same settings).</summary>
    public static List<TermDifference> Compare(JsonObject reference, JsonObject ours)
    {
        var refIts = reference["iterations"]!.AsArray();
        var ourIts = ours["iterations"]!.AsArray();
        if (refIts.Count != ourIts.Count) throw new InvalidDataException($"the reference has {refIts.Count} iterations, ours {ourIts.Count}");
        var windows = Windows(refIts.Count);
        var names = refIts[0]!["terms"]!.AsObject().Select(kv => kv.Key).ToList();
        var result = new List<TermDifference>();
        foreach (var name in names)
        {
            var perWindow = new double[windows.Count];
            double last = 0;
            for (int k = 0; k < refIts.Count; k++)
            {
                double r = refIts[k]!["terms"]![name]!.GetValue<double>();
                double o = ourIts[k]!["terms"]![name]?.GetValue<double>() ?? throw new InvalidDataException($"iteration {k + 1}: our run has no term '{name}'");
                last = Math.Abs(o - r) / Math.Max(Math.Abs(r), 1e-30);
                int w = windows.FindIndex(x => k + 1 >= x.From && k + 1 <= x.To);
                perWindow[w] = Math.Max(perWindow[w], last);
            }
            result.Add(new TermDifference(name, perWindow, last));
        }
        return result;
    }

    /// <summary>
    /// Each loss term's mean over each of the <see cref="Windows"/> of a trajectory: what stays comparable once two runs have parted
    /// (float rounding alone parts them within ten iterations — their statistics are what the adversarial term should move alike).
    /// </summary>
    public static List<(string Term, IReadOnlyList<double> PerWindow)> WindowMeans(JsonObject trajectory)
    {
        var its = trajectory["iterations"]!.AsArray();
        var windows = Windows(its.Count);
        var names = its[0]!["terms"]!.AsObject().Select(kv => kv.Key).ToList();
        return names.Select(name => (name, (IReadOnlyList<double>)windows.Select(w =>
            Enumerable.Range((int)w.From - 1, (int)(w.To - w.From + 1)).Average(k => its[k]!["terms"]![name]!.GetValue<double>())).ToList())).ToList();
    }

    /// <summary>
    /// Per window, the median norm of the adversarial terms' gradient on the generator and the median of its share of the whole generator
    /// gradient, over the probes in the window (NaN where a window has none).
    /// </summary>
    public static List<(double Norm, double Share)> GradientMedians(JsonObject trajectory)
    {
        // Deserialize, not GetValue: a number read from a file and one put in a JsonObject in memory (an int, a long) both convert.
        static double Number(JsonNode? n, string what) => n?.Deserialize<double>() ?? throw new InvalidDataException($"a gradient probe has no '{what}'");
        var probes = trajectory["adversarialGradient"]?.AsArray().Select(p =>
        {
            double norm = Number(p!["adversarial"], "adversarial");
            return (It: (long)Number(p["it"], "it") + 1, Norm: norm, Share: norm / Math.Max(Number(p["generator"], "generator"), 1e-300));
        }).ToList() ?? [];
        static double Median(List<double> v)
        {
            if (v.Count == 0) return double.NaN;
            v.Sort();
            return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
        }
        return Windows(trajectory["iterations"]!.AsArray().Count).Select(w =>
        {
            var inside = probes.Where(p => p.It >= w.From && p.It <= w.To).ToList();
            return (Median(inside.Select(p => p.Norm).ToList()), Median(inside.Select(p => p.Share).ToList()));
        }).ToList();
    }

    /// <summary>The relative differences of each net's parameter sum and sum of squares at the last snapshot both runs have.</summary>
    public static List<(string Net, double Sum, double SumSq)> CompareParameters(JsonObject reference, JsonObject ours)
    {
        var r = reference["snapshots"]!.AsArray().Last()!.AsObject();
        var o = ours["snapshots"]!.AsArray().LastOrDefault(x => x!["after"]!.GetValue<long>() == r["after"]!.GetValue<long>())?.AsObject()
            ?? throw new InvalidDataException($"our run has no parameter snapshot after iteration {r["after"]}");
        double Rel(string net, string what)
        {
            double a = r[net]![what]!.GetValue<double>(), b = o[net]![what]!.GetValue<double>();
            return Math.Abs(b - a) / Math.Max(Math.Abs(a), 1e-30);
        }
        return new[] { "segmentation", "light", "dayDiscriminator", "nightDiscriminator" }.Select(n => (n, Rel(n, "sum"), Rel(n, "sumsq"))).ToList();
    }
}
