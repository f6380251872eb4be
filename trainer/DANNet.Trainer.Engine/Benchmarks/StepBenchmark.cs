using System.Diagnostics;
using DANNet.Trainer.Losses;
using DANNet.Trainer.Models;
using DANNet.Trainer.Torch;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Benchmarks;

/// <summary>Options of <see cref="StepBenchmark"/>.</summary>
public sealed record StepBenchmarkOptions(ArchitectureSpec Architecture, int Height, int Width, int Batch, int Warmup = 2, int Iterations = 5, int Threads = 0, int? ForwardIterations = null)
{
    public void Validate()
    {
        if (Height % 8 != 0 || Width % 8 != 0 || Height < 32 || Width < 32)
            throw new ArgumentException($"--height and --width must be multiples of 8 and at least 32 (got {Height}x{Width}).");
        if (Batch < 1) throw new ArgumentException($"--batch must be at least 1 (got {Batch}).");
        if (Warmup < 0 || Iterations < 1) throw new ArgumentException("--warmup must be ≥ 0 and --iterations ≥ 1.");
    }
}

/// <summary>What a step benchmark measured (milliseconds are medians over the timed iterations).</summary>
public sealed record StepBenchmarkResult(
    string Architecture, int Height, int Width, int Batch, int Threads,
    double ForwardMs, double TrainStepMs, IReadOnlyList<double> ForwardSamplesMs, IReadOnlyList<double> TrainStepSamplesMs,
    long PeakWorkingSetBytes, long BaselineWorkingSetBytes, long TrainStepRssGrowthBytes, long Parameters);

/// <summary>
/// Times DANNet's generator on this machine: the forward pass (LightNet + segmentation net, eval
/// mode, no gradient) and a full training step as in the source pass — relight, segment, upsample,
/// weighted cross-entropy + light loss, backward, SGD with momentum and weight decay. Reports
/// medians after warm-up, the process's peak working set, and how much the resident set grew from
/// the first timed training step to the last (a leak of tensors per step shows up there).
/// </summary>
public static class StepBenchmark
{
    public static StepBenchmarkResult Run(StepBenchmarkOptions o, Action<string>? progress = null)
    {
        o.Validate();
        if (o.Threads > 0) set_num_threads(o.Threads);
        random.manual_seed(0);
        long baseline;
        using (var self = Process.GetCurrentProcess()) baseline = self.WorkingSet64;

        using var nets = DannetNets.Create(o.Architecture, relighting: true, withDiscriminators: false);
        var parameters = nets.GeneratorParameters();
        var optimizer = new StableSgd(parameters, 2.5e-4, momentum: 0.9, weightDecay: 5e-4);
        using var weights = tensor(ClassWeights.FromFrequencies(ClassWeights.CityscapesFrequencies, ClassWeights.TrainingStrength));
        using var x = randn(o.Batch, 3, o.Height, o.Width);
        using var labels = randint(0, 19, [o.Batch, o.Height, o.Width], dtype: int64);

        var forward = Time("forward", o with { Iterations = o.ForwardIterations ?? o.Iterations }, progress, () =>
        {
            nets.Eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            nets.Forward(x);
        });
        long rssAfterFirstStep = 0;
        int stepsDone = 0;
        var step = Time("train step", o, progress, () =>
        {
            nets.Train();
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var (r, logits) = nets.Forward(x);
            var up = DannetNets.Upsample(logits, o.Height, o.Width);
            var loss = WeightedCrossEntropy.Compute(up, labels, weights).Plus(LightLoss.Compute(x, r!, ExposureLoss.Target(x)).Total);
            loss.backward();
            optimizer.step();
            if (++stepsDone == o.Warmup + 1) rssAfterFirstStep = CurrentRss();
        });
        long growth = CurrentRss() - rssAfterFirstStep;

        return new StepBenchmarkResult(o.Architecture.ToString(), o.Height, o.Width, o.Batch, get_num_threads(),
            Median(forward), Median(step), forward, step,
            PeakRss(), baseline, growth, parameters.Sum(p => p.numel()));
    }

    /// <summary>Resident set size now, after a collection so that finalizable tensors do not count.</summary>
    private static long CurrentRss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private static long PeakRss()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    private static List<double> Time(string what, StepBenchmarkOptions o, Action<string>? progress, Action action)
    {
        var samples = new List<double>();
        for (int i = 0; i < o.Warmup + o.Iterations; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            sw.Stop();
            bool warm = i < o.Warmup;
            if (!warm) samples.Add(sw.Elapsed.TotalMilliseconds);
            progress?.Invoke($"{what} {(warm ? "warm-up" : "run")} {(warm ? i + 1 : i - o.Warmup + 1)}/{(warm ? o.Warmup : o.Iterations)}: {sw.Elapsed.TotalMilliseconds:F0} ms");
        }
        return samples;
    }

    private static double Median(List<double> v)
    {
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
