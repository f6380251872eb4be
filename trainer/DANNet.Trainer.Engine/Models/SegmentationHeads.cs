using DANNet.Trainer.Models.Backbones;
using DANNet.Trainer.Models.Segmentation;

namespace DANNet.Trainer.Models;

/// <summary>The segmentation head families.</summary>
public enum SegmentationHead { PspNet, DeepLabV2, RefineNet }

/// <summary>One head family: its name in architecture strings, the trunk its reference uses, and how to build the net.</summary>
internal sealed record SegmentationHeadFamily(
    SegmentationHead Head,
    string Name,
    Func<ResNetDepth, double, ResNetSpec> Trunk,
    Func<ResNetSpec, int, SegmentationNet> Create);

/// <summary>
/// The table of head families: every place that depends on the head (parsing, printing, the trunk,
/// the net) reads its row here, and a head without a row is an error, never a default. A new head
/// is its net's file, an enum member and one row.
/// </summary>
internal static class SegmentationHeads
{
    public static IReadOnlyList<SegmentationHeadFamily> All { get; } =
    [
        new(SegmentationHead.PspNet, "pspnet", ResNetSpec.PspNet, (trunk, classes) => new PspNet(trunk, classes)),
        new(SegmentationHead.DeepLabV2, "deeplabv2", ResNetSpec.DeepLabV2, (trunk, classes) => new DeepLabV2(trunk, classes)),
        new(SegmentationHead.RefineNet, "refinenet", ResNetSpec.RefineNet, (trunk, classes) => new RefineNet(trunk, classes)),
    ];

    /// <summary>The row of <paramref name="head"/>.</summary>
    public static SegmentationHeadFamily Of(SegmentationHead head) =>
        All.FirstOrDefault(f => f.Head == head)
        ?? throw new ArgumentOutOfRangeException(nameof(head), head, $"Segmentation head {head} has no row in {nameof(SegmentationHeads)}.{nameof(All)}.");

    /// <summary>The row named <paramref name="name"/> (lower case), or null.</summary>
    public static SegmentationHeadFamily? Named(string name) => All.FirstOrDefault(f => f.Name == name);

    /// <summary>The names, for error messages.</summary>
    public static string Names => string.Join("|", All.Select(f => f.Name));
}
