using DANNet.Model.IO;
using System.Diagnostics;
using System.Text.Json;
using DANNet.Trainer.Data;
using DANNet.Trainer.Evaluation;
using DANNet.Trainer.IO;
using DANNet.Trainer.Losses;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Checkpoints;
using DANNet.Trainer.Models.Pretrained;
using DANNet.Trainer.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DANNet.Trainer.Training;

/// <summary>A dry run: <see cref="Iterations"/> iterations, then <see cref="EvaluationImages"/> night val images, timed.</summary>
public sealed record DryRun(int Iterations, int EvaluationImages);

/// <summary>
/// The training loop: checks the data before anything else, writes the resolved config and code
/// version next to the outputs, builds and initialises the nets, resumes exactly from the latest
/// checkpoint when asked (same weights, optimiser states, data order and random streams), runs the
/// DANNet iterations with poly learning-rate decay, logs metrics, checkpoints atomically, evaluates,
/// and draws the curves at the end.
/// </summary>
public sealed class DannetTrainer(TrainingConfig config, string outDir)
{
    /// <summary>Called once the nets are on the run's device, before the optimisers, a resume and the loop (a test's hook).</summary>
    internal Action? OnDevice { get; init; }

    public const string ConfigFile = "config.json", MetricsFile = "metrics.jsonl", CurvesFile = "curves.png", CheckpointsFolder = "checkpoints",
        PretrainedFile = "pretrained.json";

    /// <summary>
    /// Trains (or with <paramref name="dryRun"/>, times: that many iterations in this folder, then a few night val images; no checkpoint,
    /// no final evaluation — the caller gives a scratch folder and reads the summary's timings).
    /// </summary>
    public TrainingSummary Run(bool resume, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default, DryRun? dryRun = null)
    {
        TrainingConfigLoader.Validate(config);
        var device = TrainingDevice.Resolve(config.Run.Device); // a device that is not here fails before anything is read or written
        var arch = ArchitectureSpec.Parse(config.Model.Architecture);
        var data = OpenData();
        Directory.CreateDirectory(outDir);
        string hash = TrainingConfigLoader.Hash(config);
        AtomicFile.WriteAllText(Path.Combine(outDir, ConfigFile), TrainingConfigLoader.ToJson(config) + "\n");
        AtomicFile.WriteAllText(Path.Combine(outDir, "version.txt"), $"code {CodeVersion.Current}\nconfig {hash}\n");
        if (config.Run.Threads > 0) set_num_threads(config.Run.Threads);

        Seeds.Determinism(device, config.Run.Deterministic);
        Seeds.All(unchecked((long)config.Run.Seed), device); // weight initialisation
        bool relighting = config.Mode != TrainingMode.SourceOnly && config.Loss.UseLight;
        bool withDiscriminators = config.Mode == TrainingMode.Dannet && config.Loss.UseAdversarial;
        using var nets = DannetNets.Create(arch, relighting, withDiscriminators, config.Model.DiscriminatorChannels);
        if (config.Model.Pretrained == PretrainedWeights.ImageNet)
        {
            var import = ImageNetResNet18.LoadInto(nets.Segmentation, ImageNetResNet18Files.Locate());
            AtomicFile.WriteAllText(Path.Combine(outDir, PretrainedFile), JsonSerializer.Serialize(new
            {
                source = PretrainedWeights.ImageNet,
                package = $"{ImageNetResNet18Files.PackageId} {ImageNetResNet18Files.PackageVersion}",
                file = import.File,
                sha256 = import.Sha256,
                tensors = import.Tensors,
                fileMeanBgr = import.FileMeanBgr,
            }, TrainingConfigLoader.Json) + "\n");
        }
        if (config.Model.InitSegmentation is { } seg) Checkpoint.Load(nets.Segmentation, seg);
        if (config.Model.InitLight is { } light && nets.Light is not null) Checkpoint.Load(nets.Light, light);
        nets.To(device); // before the optimisers, whose state follows the parameters' device
        OnDevice?.Invoke();
        // Every convolution the run trains, against its exact value: a CPU whose oneDNN kernels are wrong trains with libtorch's own.
        string? kernelNote = ConvolutionCheck.EnsureCorrect(nets.ByName(), device);

        var o = config.Optim;
        var (gOpt, dOpt) = Optimizers(nets, o, withDiscriminators);

        var store = new CheckpointStore(Path.Combine(outDir, CheckpointsFolder), config.Run.KeepCheckpoints);
        var metrics = new MetricsLog(Path.Combine(outDir, MetricsFile));
        long start = 0;
        string? lastCheckpoint = null;
        if (resume && store.Latest() is { } latest)
        {
            if (latest.State.ConfigHash != hash)
                throw new ArgumentException($"Cannot resume from '{latest.Dir}': it was written with config {latest.State.ConfigHash}, this run's " +
                    $"config is {hash}. Resume with the run's own {ConfigFile}, or start a new output folder.");
            CheckpointStore.Load(latest.Dir, nets, gOpt, dOpt);
            start = latest.State.Iteration;
            lastCheckpoint = latest.Dir;
            metrics.TruncateAfter(start);
        }
        else
        {
            if (!resume && store.Latest() is { } existing)
                throw new ArgumentException($"'{outDir}' already holds checkpoints (latest '{existing.Dir}'): pass --resume to continue that run, or choose another --out.");
            metrics.TruncateAfter(-1); // a fresh start (or a resume with nothing to resume): no stale lines
        }

        using var trainWeights = tensor(data.Weights(config.Loss.TrainStrength), device: device);
        var testWeights = data.Weights(ClassWeights.TestStrength);
        var inference = new InferenceSettings(config.Run.EvalHeight, config.Run.EvalWidth, data.Frequencies);
        var iteration = new DannetIteration(nets, config, trainWeights);
        double? lastMiou = null;
        var clock = Stopwatch.StartNew();
        long timedFrom = start;
        long interval = config.Run.EvaluationInterval(o.Iterations);
        int validationImages = data.Validation?.Samples.Count ?? 0;
        // Evaluations after iteration 'done': the interval's multiples before the end, and the one at the end.
        long EvaluationsLeft(long done) => validationImages == 0 ? 0 : (interval > 0 ? (o.Iterations - 1) / interval - done / interval : 0) + 1;
        var pace = new TrainingClock(o.Iterations, EvaluationsLeft);
        var seconds = new List<double>();
        double? evaluationPerImage = null;
        long stopAt = dryRun is null ? o.Iterations : Math.Min(o.Iterations, start + dryRun.Iterations);
        // Loss terms stay on the device until a logging, checkpoint or evaluation point reads them all back at once (and checks them
        // finite): one wait for the device per interval instead of one per term. Progress shows the terms last read.
        var pending = new List<(long Iteration, IterationTerms Terms)>();
        var terms = new Dictionary<string, double>();
        // Where the run is after 'done' iterations: the terms last read back, the speed, the time left and the last night val mIoU.
        TrainingProgress Progress(long done, string? note = null) => new(done, o.Iterations, terms, pace.ItPerSec, lastMiou)
        {
            Eta = pace.Eta(done), EtaLeavesOut = pace.UntimedEvaluations(done), Note = note,
        };
        if (kernelNote is not null) progress?.Report(Progress(start, kernelNote));
        using var batches = new BatchPrefetcher(it => (data.Labelled.Next(it, o.BatchSize), data.Pairs?.Next(it, o.BatchSize)), start, stopAt,
            config.Run.Prefetch, pin: device.type == DeviceType.CUDA);
        try
        {
            for (long it = start; it < stopAt; it++)
            {
                cancel.ThrowIfCancellationRequested();
                Seeds.All(unchecked((long)(config.Run.Seed * 1_000_003UL) + it), device);
                double decay = Schedule(o, it, gOpt, dOpt);

                long began = Stopwatch.GetTimestamp();
                double dataSeconds;
                var (hostLabelled, hostPairs) = batches.Take(it);
                using (var labelled = hostLabelled.To(device))
                using (var pairs = hostPairs?.To(device))
                {
                    dataSeconds = Stopwatch.GetElapsedTime(began).TotalSeconds;
                    pending.Add((it, iteration.Run(it, labelled, pairs, gOpt, dOpt)));
                }
                double took = Stopwatch.GetElapsedTime(began).TotalSeconds;
                seconds.Add(took);

                long done = it + 1;
                pace.Finished(done);
                string? note = it == start ? FirstIterationNote(took, dataSeconds, device) : null;
                double itPerSec = (done - timedFrom) / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                bool evaluating = dryRun is null && data.Validation is not null && interval > 0 && done % interval == 0 && done != o.Iterations;
                if (done % config.Run.LogEvery == 0 || done % config.Run.CheckpointEvery == 0 || done == stopAt || evaluating || it == start)
                    terms = IterationTerms.ReadBack(pending);
                if (done % config.Run.LogEvery == 0 || done == o.Iterations)
                    metrics.Append(MetricsLog.Step(done, o.GeneratorLr * decay, o.DiscriminatorLr * decay, itPerSec, terms));
                if (dryRun is null && (done % config.Run.CheckpointEvery == 0 || done == o.Iterations))
                    lastCheckpoint = store.Save(new TrainingState(done, arch.ToString(), config.Mode, relighting, hash, CodeVersion.Current, inference), nets, gOpt, dOpt);
                progress?.Report(Progress(done, note));
                if (evaluating)
                {
                    lastMiou = EvaluateInto(metrics, done, nets, data.Validation!, testWeights, pace, progress, cancel).MeanIoU;
                    progress?.Report(Progress(done));
                }
            }
        }
        finally
        {
            foreach (var (_, t) in pending) t.Dispose();
        }

        if (dryRun is not null)
        {
            if (data.Validation is { } set && dryRun.EvaluationImages > 0)
            {
                var sample = set.Samples.Take(dryRun.EvaluationImages).ToList();
                long began = Stopwatch.GetTimestamp();
                Evaluator.Evaluate(nets, $"{set.Root} ({set.Split})", sample, config.Run.EvalHeight, config.Run.EvalWidth, testWeights, cancel: cancel);
                evaluationPerImage = Stopwatch.GetElapsedTime(began).TotalSeconds / sample.Count;
            }
            return new TrainingSummary(stopAt, outDir, null, null, null)
            {
                IterationSeconds = seconds, EvaluationSecondsPerImage = evaluationPerImage, ValidationImages = validationImages,
                Evaluations = (int)EvaluationsLeft(0),
            };
        }
        double? finalMiou = null;
        if (data.Validation is not null)
        {
            var result = EvaluateInto(metrics, o.Iterations, nets, data.Validation, testWeights, pace, progress, cancel);
            finalMiou = result.MeanIoU;
            EvaluationReport.Write(Path.Combine(outDir, "eval"), result);
        }
        progress?.Report(new TrainingProgress(o.Iterations, o.Iterations, new Dictionary<string, double>(), pace.ItPerSec, finalMiou) { Phase = TrainingPhase.Done });
        string curves = Path.Combine(outDir, CurvesFile);
        WriteCurves(metrics, curves);
        return new TrainingSummary(o.Iterations, outDir, lastCheckpoint, finalMiou, curves)
        {
            IterationSeconds = seconds, ValidationImages = validationImages, Evaluations = (int)EvaluationsLeft(0),
        };
    }

    /// <summary>What made the first iteration slow: reading the batch, or libtorch's first pass.</summary>
    private static string FirstIterationNote(double seconds, double dataSeconds, Device device) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"first iteration: {seconds:F1} s — {dataSeconds:F1} s reading, augmenting and moving the batch to {device.type.ToString().ToLowerInvariant()}, " +
            $"{seconds - dataSeconds:F1} s in the step (the first pass allocates memory and picks kernels; the speed shown from the second on is the steady one)");

    private EvaluationResult EvaluateInto(MetricsLog metrics, long iteration, DannetNets nets, LabelledSet set, float[] testWeights, TrainingClock pace,
        IProgress<TrainingProgress>? progress, CancellationToken cancel)
    {
        long began = Stopwatch.GetTimestamp();
        var result = Evaluator.Evaluate(nets, $"{set.Root} ({set.Split})", set.Samples, config.Run.EvalHeight, config.Run.EvalWidth, testWeights,
            progress: (done, total) => progress?.Report(new TrainingProgress(iteration, config.Optim.Iterations, new Dictionary<string, double>(), pace.ItPerSec, null)
            {
                Phase = TrainingPhase.Evaluating, Evaluated = (done, total),
            }), cancel: cancel);
        pace.Evaluated(Stopwatch.GetElapsedTime(began).TotalSeconds);
        metrics.Append(MetricsLog.Evaluation(iteration, result));
        return result;
    }

    /// <summary>
    /// Draws the run in <paramref name="runFolder"/> as training does at its end — every loss term, the discriminators' losses,
    /// night val mIoU — into <paramref name="png"/> (an unfinished run's picture so far, or a finished one's with today's
    /// drawing); returns the number of night val evaluations drawn.
    /// </summary>
    public static int WriteCurves(string runFolder, string png)
    {
        string path = Path.Combine(runFolder, MetricsFile);
        if (!File.Exists(path))
            throw new ArgumentException($"'{path}' does not exist — name a run folder written by dannet-train train.");
        return WriteCurves(new MetricsLog(path), png);
    }

    /// <summary>Draws the run's own picture from <paramref name="metrics"/> into <paramref name="path"/>; returns the evaluations drawn.</summary>
    private static int WriteCurves(MetricsLog metrics, string path)
    {
        var (terms, miou) = metrics.Read();
        var smoothed = terms.ToDictionary(kv => kv.Key, kv => CurvePlot.Smooth(kv.Value, 10));
        var generator = smoothed.Where(kv => !kv.Key.StartsWith("d_", StringComparison.Ordinal)).ToDictionary();
        var discriminators = smoothed.Where(kv => kv.Key.StartsWith("d_", StringComparison.Ordinal)).ToDictionary();
        var panels = new List<(string, IReadOnlyDictionary<string, List<(long, double)>>)> { ("generator loss terms (moving average of 10 logged points)", generator) };
        if (discriminators.Count > 0) panels.Add(("discriminator losses", discriminators));
        panels.Add(("night val mIoU", new Dictionary<string, List<(long, double)>> { ["mIoU"] = miou }));
        using var img = CurvePlot.Draw(panels, sharedIterations: true); // the panels line up: mIoU starts at the first evaluation, not at 0
        ImageFiles.WritePng(path, img);
        return miou.Count;
    }

    private sealed record RunData(LabelledSampler Labelled, PairSampler? Pairs, LabelledSet? Validation, double[] Frequencies)
    {
        public float[] Weights(double strength) => ClassWeights.FromFrequencies(Frequencies, strength);
    }

    /// <summary>Opens every data set the run needs — failing here, before any training, with the file named.</summary>
    private RunData OpenData()
    {
        var a = config.Augment;
        ulong seed = config.Run.Seed;
        LabelledSampler labelled = config.Mode == TrainingMode.Oracle
            ? new LabelledSampler(DarkZurichDataset.LabelledNight(config.Data.Target, config.Data.OracleSplit).Samples, a.SourceScaleMin, a.SourceScaleMax, a.SourceCrop, a.Flip, seed)
            : new LabelledSampler(new CityscapesDataset(config.Data.Source, "train").Samples, a.SourceScaleMin, a.SourceScaleMax, a.SourceCrop, a.Flip, seed);
        PairSampler? pairs = config.Mode == TrainingMode.Dannet
            ? new PairSampler(DarkZurichDataset.TrainPairs(config.Data.Target, config.Data.PairCsv).Pairs, a, seed)
            : null;
        LabelledSet? validation = Directory.Exists(Path.Combine(config.Data.Target, "gt", "val", "night"))
            ? DarkZurichDataset.LabelledNight(config.Data.Target, "val")
            : null;
        double[] frequencies = config.Data.ClassFrequencies is { } f ? ClassFrequencyFile.Read(f) : [.. ClassWeights.CityscapesFrequencies];
        return new RunData(labelled, pairs, validation, frequencies);
    }

    /// <summary>The reference's optimisers: SGD with momentum and weight decay for LightNet + the segmentation net (one group), Adam for the discriminators.</summary>
    public static (StableSgd Generator, OptimizerHelper? Discriminators) Optimizers(DannetNets nets, OptimConfig o, bool withDiscriminators) =>
        (new StableSgd(nets.GeneratorParameters(), o.GeneratorLr, momentum: o.Momentum, weightDecay: o.WeightDecay),
         withDiscriminators ? new StableAdam(nets.DiscriminatorParameters(), o.DiscriminatorLr, beta1: o.Beta1, beta2: o.Beta2) : null);

    /// <summary>The poly schedule at iteration <paramref name="it"/> (0-based): base rate × (1 − it/iterations)^power for both optimisers; the factor.</summary>
    public static double Schedule(OptimConfig o, long it, OptimizerHelper generator, OptimizerHelper? discriminators)
    {
        double decay = Math.Pow(1 - (double)it / o.Iterations, o.Power);
        foreach (var g in generator.ParamGroups) g.LearningRate = o.GeneratorLr * decay;
        if (discriminators is not null) foreach (var g in discriminators.ParamGroups) g.LearningRate = o.DiscriminatorLr * decay;
        return decay;
    }
}
