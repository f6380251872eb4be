using System.CommandLine;
using DANNet.Trainer.Training;

namespace DANNet.Trainer.Cli;

/// <summary>The one way every command names a model (<see cref="ModelSource"/>): a run or checkpoint folder, or .pth weights with their architecture.</summary>
internal static class ModelSourceOptions
{
    public static readonly Option<DirectoryInfo?> Checkpoint = new("--checkpoint", "-c") { Description = "A run folder (its latest checkpoint) or a " +
        "checkpoint folder (run/checkpoints/iter-NNNNNN); the architecture is read from it." };
    public static readonly Option<FileInfo?> SegmentationPth = new("--segmentation") { Description = "Segmentation weights as a PyTorch .pth (e.g. " +
        "the official dannet_psp.pth), instead of --checkpoint; needs --arch." };
    public static readonly Option<FileInfo?> LightPth = new("--light") { Description = "LightNet weights as a .pth (e.g. dannet_psp_light.pth), with " +
        "--segmentation. Without it the model does not relight." };
    public static readonly Option<string?> Arch = new("--arch") { Description = "Architecture of the .pth weights, e.g. pspnet-r101 (with --checkpoint: optional, must match)." };

    /// <summary>The options, to add to a command.</summary>
    public static IEnumerable<Option> All => [Checkpoint, SegmentationPth, LightPth, Arch];

    public static ModelSource Resolve(ParseResult parse) => ModelSource.Resolve(
        parse.GetValue(Checkpoint)?.FullName, parse.GetValue(SegmentationPth)?.FullName, parse.GetValue(LightPth)?.FullName, parse.GetValue(Arch));
}
