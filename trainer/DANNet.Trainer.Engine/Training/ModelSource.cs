using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Checkpoints;
using DANNet.Trainer.Torch;

namespace DANNet.Trainer.Training;

/// <summary>
/// A trained model as every command names it, parsed once: a run folder (its latest checkpoint), a
/// checkpoint folder (<c>run/checkpoints/iter-NNNNNN</c>), or PyTorch <c>.pth</c> weights — the
/// segmentation net and, optionally, LightNet, as the official release ships them — with their
/// architecture. <see cref="Load"/> builds the nets in eval mode.
/// </summary>
public sealed class ModelSource
{
    private readonly string? _segmentationPth, _lightPth;

    private ModelSource(ArchitectureSpec architecture, bool useLight, string description, string? checkpointDir, string? segmentationPth,
        string? lightPth, string configHash, InferenceSettings inference)
    {
        Inference = inference;
        Architecture = architecture;
        UseLight = useLight;
        Description = description;
        CheckpointDir = checkpointDir;
        _segmentationPth = segmentationPth;
        _lightPth = lightPth;
        ConfigHash = configHash;
    }

    public ArchitectureSpec Architecture { get; }

    /// <summary>How the model is meant to be run: recorded in its checkpoint, else the reference protocol.</summary>
    public InferenceSettings Inference { get; }

    /// <summary>Whether the model relights (a LightNet is part of it).</summary>
    public bool UseLight { get; }

    /// <summary>Where the weights come from, for provenance: the checkpoint folder with its iteration and mode, or the .pth files.</summary>
    public string Description { get; }

    /// <summary>The checkpoint folder, when the model is one.</summary>
    public string? CheckpointDir { get; }

    /// <summary>The training config's hash, when the model is a checkpoint ("" for .pth weights).</summary>
    public string ConfigHash { get; }

    /// <summary>
    /// Resolves the command line's way of naming a model: <paramref name="checkpointOrRun"/>, or
    /// <paramref name="segmentationPth"/> (+ <paramref name="lightPth"/>) with <paramref name="architecture"/>.
    /// With a checkpoint, <paramref name="architecture"/> is optional and must match it.
    /// </summary>
    public static ModelSource Resolve(string? checkpointOrRun, string? segmentationPth = null, string? lightPth = null, string? architecture = null)
    {
        if ((checkpointOrRun is null) == (segmentationPth is null))
            throw new ArgumentException("Name the model either with --checkpoint (a run or checkpoint folder) or with --segmentation (a .pth, with --arch and optionally --light).");
        if (checkpointOrRun is not null)
        {
            if (lightPth is not null) throw new ArgumentException("--light goes with --segmentation; a checkpoint folder has its own LightNet.");
            string dir = ResolveCheckpointDir(checkpointOrRun);
            var state = CheckpointStore.ReadState(dir);
            var spec = ArchitectureSpec.Parse(state.Architecture);
            if (architecture is not null && ArchitectureSpec.Parse(architecture) != spec)
                throw new ArgumentException($"--arch {architecture} does not match the checkpoint's architecture {spec} ({dir}).");
            return new ModelSource(spec, state.UseLight, $"{dir} (iteration {state.Iteration}, {state.Mode})", dir, null, null, state.ConfigHash, state.Inference ?? InferenceSettings.Reference);
        }
        if (architecture is null) throw new ArgumentException("--segmentation needs --arch (e.g. pspnet-r101 for the official dannet_psp.pth).");
        foreach (var file in new[] { segmentationPth, lightPth })
            if (file is not null && !File.Exists(file)) throw new FileNotFoundException($"No weights file at '{file}'.", file);
        string description = segmentationPth + (lightPth is null ? "" : " + " + lightPth);
        return new ModelSource(ArchitectureSpec.Parse(architecture), lightPth is not null, description, null, segmentationPth, lightPth, "", InferenceSettings.Reference);
    }

    /// <summary>A checkpoint folder itself, or a run folder's latest checkpoint.</summary>
    public static string ResolveCheckpointDir(string path) =>
        File.Exists(Path.Combine(path, CheckpointStore.StateFile))
            ? path
            : new CheckpointStore(Path.Combine(path, DannetTrainer.CheckpointsFolder), 1).Latest()?.Dir
              ?? throw new ArgumentException($"'{path}' is neither a checkpoint folder (with {CheckpointStore.StateFile}) nor a run folder with checkpoints.");

    /// <summary>The generator nets (LightNet when the model has one, the segmentation net), loaded strictly, in eval mode.</summary>
    public DannetNets Load()
    {
        var nets = DannetNets.Create(Architecture, UseLight, withDiscriminators: false);
        try
        {
            if (CheckpointDir is not null)
                CheckpointStore.Load(CheckpointDir, nets);
            else
            {
                Checkpoint.Load(nets.Segmentation, _segmentationPth!);
                if (nets.Light is not null) Checkpoint.Load(nets.Light, _lightPth!);
            }
        }
        catch
        {
            nets.Dispose();
            throw;
        }
        nets.Eval();
        return nets;
    }

    /// <summary>
    /// <see cref="Load()"/>, moved to <paramref name="device"/>, with every convolution checked as training checks them
    /// (<see cref="ConvolutionCheck.EnsureCorrect"/>): on a CPU whose oneDNN kernels are wrong the faulty layers are repaired, and
    /// <paramref name="note"/> is told so; where nothing can make them right this throws rather than predict from wrong sums.
    /// </summary>
    public DannetNets Load(TorchSharp.torch.Device device, Action<string> note)
    {
        var nets = Load();
        try
        {
            nets.To(device);
            if (ConvolutionCheck.EnsureCorrect(nets.ByName(), device) is { } text) note(text);
            return nets;
        }
        catch
        {
            nets.Dispose();
            throw;
        }
    }
}
