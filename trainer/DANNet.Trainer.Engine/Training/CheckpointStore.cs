using DANNet.Trainer.Torch;
using DANNet.Model.IO;
using DANNet.Trainer.Models;
using System.Globalization;
using System.Text.Json;
using DANNet.Trainer.IO;
using DANNet.Trainer.Models.Checkpoints;
using TorchSharp.Modules;

namespace DANNet.Trainer.Training;

/// <summary>
/// Training checkpoints: one folder per saved iteration (<c>iter-000500/</c>) with each net as a
/// PyTorch state dict, both optimiser states and <c>state.json</c>. A folder is written under a
/// temporary name and renamed when complete, so a crash never leaves a half checkpoint under a real
/// name; the oldest folders beyond <c>keep</c> are removed after a successful save.
/// </summary>
public sealed class CheckpointStore(string root, int keep)
{
    public const string StateFile = "state.json", GeneratorOptimizerFile = "optimizer_generator.bin", DiscriminatorOptimizerFile = "optimizer_discriminators.bin";
    private const string Prefix = "iter-";

    public string Root { get; } = root;

    public string Save(TrainingState state, DannetNets nets, OptimizerHelper generatorOptimizer, OptimizerHelper? discriminatorOptimizer)
    {
        Directory.CreateDirectory(Root);
        string final = Path.Combine(Root, Prefix + state.Iteration.ToString("D6", CultureInfo.InvariantCulture));
        string temp = final + $".tmp-{Environment.ProcessId}";
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        Directory.CreateDirectory(temp);
        foreach (var (file, net) in nets.Named()) Checkpoint.Save(net, Path.Combine(temp, file));
        generatorOptimizer.save_state_dict(Path.Combine(temp, GeneratorOptimizerFile));
        discriminatorOptimizer?.save_state_dict(Path.Combine(temp, DiscriminatorOptimizerFile));
        AtomicFile.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state, TrainingConfigLoader.Json));
        if (Directory.Exists(final)) Directory.Delete(final, true);
        Directory.Move(temp, final);
        foreach (var old in Complete().SkipLast(keep)) Directory.Delete(old.Dir, true);
        return final;
    }

    /// <summary>Complete checkpoint folders, oldest first.</summary>
    public List<(string Dir, TrainingState State)> Complete()
    {
        if (!Directory.Exists(Root)) return [];
        return Directory.EnumerateDirectories(Root, Prefix + "*")
            .Where(d => !Path.GetFileName(d).Contains(".tmp", StringComparison.Ordinal) && File.Exists(Path.Combine(d, StateFile)))
            .Select(d => (Dir: d, State: ReadState(d)))
            .OrderBy(t => t.State.Iteration)
            .ToList();
    }

    public (string Dir, TrainingState State)? Latest() => Complete() is { Count: > 0 } all ? all[^1] : null;

    public static TrainingState ReadState(string dir)
    {
        string path = Path.Combine(dir, StateFile);
        if (!File.Exists(path)) throw new CheckpointException($"'{dir}' is not a training checkpoint: {StateFile} is missing.");
        try
        {
            return JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(path), TrainingConfigLoader.Json)
                ?? throw new CheckpointException($"'{path}' is empty.");
        }
        catch (JsonException ex)
        {
            throw new CheckpointException($"'{path}' is not a valid checkpoint state: {ex.Message}", ex);
        }
    }

    /// <summary>Loads the nets (strictly) and, when given, the optimiser states of a checkpoint folder.</summary>
    public static void Load(string dir, DannetNets nets, OptimizerHelper? generatorOptimizer = null, OptimizerHelper? discriminatorOptimizer = null)
    {
        foreach (var (file, net) in nets.Named())
            Checkpoint.Load(net, Path.Combine(dir, file));
        // TorchSharp's loader makes the saved state's tensors on the default device before copying them into the optimiser's.
        HostStaging.Run(() =>
        {
            generatorOptimizer?.load_state_dict(Path.Combine(dir, GeneratorOptimizerFile));
            discriminatorOptimizer?.load_state_dict(Path.Combine(dir, DiscriminatorOptimizerFile));
        });
    }
}
