using System.Globalization;
using System.Text.RegularExpressions;
using DANNet.Trainer.Models.Backbones;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;

namespace DANNet.Trainer.Models;

/// <summary>
/// A complete DANNet generator: segmentation head on a ResNet trunk of some depth and width, plus
/// the relighting net's base channels. Written on the command line as
/// <c>&lt;head&gt;-r&lt;depth&gt;[-w&lt;width&gt;][-l&lt;light channels&gt;]</c>, e.g. <c>pspnet-r101</c> (the paper's),
/// <c>pspnet-r18-w0.5-l16</c> (an edge variant), <c>pspnet-r18i-l16</c> (the edge variant
/// whose trunk takes the ImageNet-pretrained ResNet-18).
/// </summary>
public sealed partial record ArchitectureSpec(SegmentationHead Head, ResNetDepth Depth, double Width = 1.0, int LightChannels = 64)
{
    /// <summary>The architectures documented in the README (paper nets and edge variants).</summary>
    public static IReadOnlyList<ArchitectureSpec> Catalog { get; } =
    [
        Parse("pspnet-r101"), Parse("deeplabv2-r101"), Parse("refinenet-r101"),
        Parse("pspnet-r50-l32"), Parse("pspnet-r18-l16"), Parse("pspnet-r18-w0.5-l16"),
        Parse("deeplabv2-r18-l16"), Parse("refinenet-r18-l16"), Parse("pspnet-r18i-l16"),
    ];

    public override string ToString()
    {
        string s = $"{SegmentationHeads.Of(Head).Name}-r{ResNetDepths.Token(Depth)}";
        if (Width != 1.0) s += "-w" + Width.ToString("0.###", CultureInfo.InvariantCulture);
        if (LightChannels != 64) s += "-l" + LightChannels.ToString(CultureInfo.InvariantCulture);
        return s;
    }

    /// <summary>What the segmentation head's output computes (one line; exported into the model's metadata).</summary>
    public string HeadComputes => SegmentationHeads.Of(Head).Computes;

    public static ArchitectureSpec Parse(string text)
    {
        var m = NamePattern().Match(text.Trim().ToLowerInvariant());
        if (!m.Success)
            throw new ArgumentException($"Unknown architecture '{text}': expected <head>-r<depth>[-w<width>][-l<light channels>] with head " +
                $"{SegmentationHeads.Names} and depth 18|18i|34|50|101, e.g. pspnet-r101 or pspnet-r18-w0.5-l16.");
        var head = SegmentationHeads.Named(m.Groups["head"].Value)?.Head
            ?? throw new ArgumentException($"Architecture '{text}': unknown head '{m.Groups["head"].Value}' ({SegmentationHeads.Names}).");
        var depth = ResNetDepths.FromToken(m.Groups["depth"].Value)
            ?? throw new ArgumentException($"Architecture '{text}': ResNet depth {m.Groups["depth"].Value} is not supported (18, 18i, 34, 50, 101).");
        double width = m.Groups["width"].Success ? double.Parse(m.Groups["width"].Value, CultureInfo.InvariantCulture) : 1.0;
        if (width is <= 0 or > 4) throw new ArgumentException($"Architecture '{text}': width multiplier must be in (0, 4].");
        int light = m.Groups["light"].Success ? int.Parse(m.Groups["light"].Value, CultureInfo.InvariantCulture) : 64;
        if (light < 4) throw new ArgumentException($"Architecture '{text}': LightNet needs at least 4 base channels.");
        return new ArchitectureSpec(head, depth, width, light);
    }

    [GeneratedRegex(@"^(?<head>[a-z][a-z0-9]*)-r(?<depth>\d+i?)(-w(?<width>\d+(\.\d+)?))?(-l(?<light>\d+))?$")]
    private static partial Regex NamePattern();

    /// <summary>The trunk of this architecture (stem, strides, dilations of its head's reference).</summary>
    public ResNetSpec Trunk => Depth == ResNetDepth.ResNet18I
        ? SegmentationHeads.Of(Head).Trunk(Depth, Width).WithImageNetStem()
        : SegmentationHeads.Of(Head).Trunk(Depth, Width);

    /// <summary>True when the ImageNet-pretrained ResNet-18 (docs/pretrained.md) fits this trunk: depth 18i at full width.</summary>
    public bool AcceptsImageNetResNet18 => Depth == ResNetDepth.ResNet18I && Width == 1.0;

    public SegmentationNet CreateSegmentationNet(int numClasses = 19) => SegmentationHeads.Of(Head).Create(Trunk, numClasses);

    public LightNet CreateLightNet() => new(LightChannels);
}
