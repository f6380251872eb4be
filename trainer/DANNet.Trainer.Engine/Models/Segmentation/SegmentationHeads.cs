using DANNet.Trainer.Models.Backbones;
using DANNet.Trainer.Models.Segmentation;

namespace DANNet.Trainer.Models.Segmentation;

/// <summary>The segmentation head families.</summary>
public enum SegmentationHead
{
    PspNet,

    /// <summary>DeepLab-v2 as the reference computes it: the ASPP output sums the branches of dilations 6 and 12.</summary>
    DeepLabV2,

    RefineNet,

    /// <summary>DeepLab-v2 with all four ASPP branches summed (dilations 6, 12, 18, 24), as the DeepLab-v2 paper describes it; same keys.</summary>
    DeepLabV2Aspp4,
}

/// <summary>
/// One head family: its name in architecture strings, the trunk its reference uses, how to build the
/// net, and what its output computes (one line, written into exported models' metadata).
/// </summary>
public sealed record SegmentationHeadFamily(
    SegmentationHead Head,
    string Name,
    Func<ResNetDepth, double, ResNetSpec> Trunk,
    Func<ResNetSpec, int, SegmentationNet> Create,
    string Computes);

/// <summary>
/// The table of head families: every place that depends on the head (parsing, printing, the trunk,
/// the net) reads its row here, and a head without a row is an error, never a default. A new head
/// is its net's file, an enum member and one row.
/// </summary>
public static class SegmentationHeads
{
    public static IReadOnlyList<SegmentationHeadFamily> All { get; } =
    [
        new(SegmentationHead.PspNet, "pspnet", ResNetSpec.PspNet, (trunk, classes) => new PspNet(trunk, classes),
            "pyramid pooling (bins 1, 2, 3, 6) on layer4, as the reference"),
        new(SegmentationHead.DeepLabV2, "deeplabv2", ResNetSpec.DeepLabV2, (trunk, classes) => new DeepLabV2(trunk, classes),
            "ASPP on layer4 summing the branches of dilations 6 and 12 (of 6, 12, 18, 24), as the reference computes it"),
        new(SegmentationHead.RefineNet, "refinenet", ResNetSpec.RefineNet, (trunk, classes) => new RefineNet(trunk, classes),
            "RefineNet decoder over layer1..4 to output stride 4, as the reference"),
        new(SegmentationHead.DeepLabV2Aspp4, "deeplabv2aspp4", ResNetSpec.DeepLabV2,
            (trunk, classes) => new DeepLabV2(trunk, classes, summedBranches: DeepLabV2.Dilations.Count),
            "ASPP on layer4 summing all four branches (dilations 6, 12, 18, 24), as the DeepLab-v2 paper; not the DANNet reference"),
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
