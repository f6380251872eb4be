using System.Text.Json.Serialization;

namespace DANNet.Trainer.Training;

/// <summary>What a training run learns from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TrainingMode>))]
public enum TrainingMode
{
    /// <summary>DANNet: labelled source + unlabelled day/night pairs (light, adversarial and static losses as switched on).</summary>
    Dannet,

    /// <summary>The baseline: the segmentation net on labelled source images only, no relighting.</summary>
    SourceOnly,

    /// <summary>The upper bound: the segmentation net (with LightNet) on labelled night images.</summary>
    Oracle,
}

/// <summary>Where the data is. Paths are relative to the config file's folder when not absolute.</summary>
public sealed record DataConfig
{
    /// <summary>Cityscapes-layout root of the labelled day source set.</summary>
    public string Source { get; init; } = "data/synthnight/cityscapes";

    /// <summary>Dark Zurich-layout root of the target set (pairs, and night val for evaluation).</summary>
    public string Target { get; init; } = "data/synthnight/dark_zurich";

    /// <summary>Pair list; empty: the target root's default (zurich_dn_pair_train.csv or corresp/).</summary>
    public string? PairCsv { get; init; }

    /// <summary>Oracle mode: the split of the target set whose labelled night images are trained on.</summary>
    public string OracleSplit { get; init; } = "train";

    /// <summary>Class frequencies for the re-weighting (JSON from <c>dannet-train stats</c>); empty: the Cityscapes values.</summary>
    public string? ClassFrequencies { get; init; }
}

/// <summary>Which nets, and where their starting weights come from.</summary>
public sealed record ModelConfig
{
    /// <summary>Architecture name, e.g. pspnet-r101 or pspnet-r18-w0.5-l16.</summary>
    public string Architecture { get; init; } = "pspnet-r101";

    /// <summary>
    /// Pretrained trunk weights: <c>imagenet</c> (the ImageNet ResNet-18 of the NuGet package
    /// Microsoft.ML.DnnImageFeaturizer.ResNet18, for <c>r18i</c> trunks at full width; docs/pretrained.md)
    /// or <c>none</c> (random initialisation). Applied before <see cref="InitSegmentation"/>, which overrides it.
    /// </summary>
    public string Pretrained { get; init; } = PretrainedWeights.None;

    /// <summary>Segmentation weights to start from: a PyTorch state dict (ours or the reference's), loaded strictly.</summary>
    public string? InitSegmentation { get; init; }

    /// <summary>LightNet weights to start from (optional).</summary>
    public string? InitLight { get; init; }

    /// <summary>Base channels of the discriminators (64 in the reference; fewer for fast CPU runs).</summary>
    public int DiscriminatorChannels { get; init; } = 64;
}

/// <summary>The values of <see cref="ModelConfig.Pretrained"/>.</summary>
public static class PretrainedWeights
{
    public const string None = "none", ImageNet = "imagenet";
}

/// <summary>Optimisation: SGD for the generator, Adam for the discriminators, both with poly decay (power 0.9).</summary>
public sealed record OptimConfig
{
    public int Iterations { get; init; } = 50_000;
    public int BatchSize { get; init; } = 2;
    public double GeneratorLr { get; init; } = 2.5e-4;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 5e-4;
    public double DiscriminatorLr { get; init; } = 1e-4;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.99;
    public double Power { get; init; } = 0.9;
}

/// <summary>The reference data augmentation, with crop sizes as settings (the reference: 512 source crop; 960 target crop resized to 512).</summary>
public sealed record AugmentConfig
{
    public double SourceScaleMin { get; init; } = 0.5;
    public double SourceScaleMax { get; init; } = 1.0;
    public int SourceCrop { get; init; } = 512;
    public double TargetScaleMin { get; init; } = 0.9;
    public double TargetScaleMax { get; init; } = 1.1;
    public int TargetCrop { get; init; } = 960;
    public int TargetResize { get; init; } = 512;
    public bool Flip { get; init; } = true;
}

/// <summary>Loss weights of the reference and the ablation switches.</summary>
public sealed record LossConfig
{
    /// <summary>LightNet and the light losses (off: the segmentation net sees the raw image).</summary>
    public bool UseLight { get; init; } = true;
    public bool UseStatic { get; init; } = true;
    public bool UseAdversarial { get; init; } = true;
    public double SourceLightWeight { get; init; } = 1.0;
    public double TargetLightWeight { get; init; } = 0.01;
    public double AdversarialWeight { get; init; } = 0.01;
    public double StaticWeight { get; init; } = 1.0;
    /// <summary>Re-weighting strength s in training (segmentation loss and pseudo labels).</summary>
    public double TrainStrength { get; init; } = 0.05;
}

/// <summary>Checkpoints, logging and evaluation during training.</summary>
public sealed record RunConfig
{
    public int CheckpointEvery { get; init; } = 1000;
    public int KeepCheckpoints { get; init; } = 3;
    public int LogEvery { get; init; } = 10;
    /// <summary>
    /// Evaluate on the target's night val set every N iterations — 0 (the default): about ten times over a run of 100 iterations or
    /// more, at a multiple of <see cref="LogEvery"/>, so the curve exists (shorter runs: at the end only); −1: only at the end
    /// (<see cref="EvaluationInterval"/>).
    /// </summary>
    public int EvalEvery { get; init; } = 0;

    /// <summary>Runs shorter than this evaluate only at the end unless <see cref="EvalEvery"/> says otherwise.</summary>
    public const long AutoEvaluationMinimum = 100;

    /// <summary>Iterations between evaluations for a run of <paramref name="iterations"/>, or 0 for none but the last.</summary>
    public long EvaluationInterval(long iterations)
    {
        if (EvalEvery > 0) return EvalEvery;
        if (EvalEvery < 0 || iterations < AutoEvaluationMinimum) return 0;
        long tenth = Math.Max(1, iterations / 10);
        return Math.Max(LogEvery, (tenth + LogEvery - 1) / LogEvery * LogEvery);
    }
    public int EvalHeight { get; init; } = Models.InferenceSettings.Reference.Height;
    public int EvalWidth { get; init; } = Models.InferenceSettings.Reference.Width;
    public ulong Seed { get; init; } = 1;
    /// <summary>
    /// Where to train: cpu, cuda, cuda:N or auto (CUDA when this build and machine have it). Not part
    /// of the config hash: a run resumes on another device. Checkpoints are always written from CPU copies.
    /// </summary>
    public string Device { get; init; } = "auto";

    /// <summary>
    /// On CUDA: no TF32 and cuBLAS's fixed workspace, so a GPU run repeats itself as closely as TorchSharp allows (cuDNN's algorithm
    /// choice is not switchable there; docs/gpu-training.md). Not part of the config hash, like the device. No effect on the CPU.
    /// </summary>
    public bool Deterministic { get; init; }

    /// <summary>
    /// Iterations whose batches a background thread prepares ahead (decode, augment, stack; page-locked for a CUDA run), so the device
    /// need not wait for the CPU; 0: made in the loop. The run is the same either way (not part of the config hash).
    /// </summary>
    public int Prefetch { get; init; } = 2;

    /// <summary>Torch intra-op threads (0: libtorch's choice).</summary>
    public int Threads { get; init; }
}

/// <summary>A training run, as bound once from JSON and the command line.</summary>
public sealed record TrainingConfig
{
    public TrainingMode Mode { get; init; } = TrainingMode.Dannet;
    public DataConfig Data { get; init; } = new();
    public ModelConfig Model { get; init; } = new();
    public OptimConfig Optim { get; init; } = new();
    public AugmentConfig Augment { get; init; } = new();
    public LossConfig Loss { get; init; } = new();
    public RunConfig Run { get; init; } = new();
}
