namespace DANNet.Trainer.Models.Backbones;

/// <summary>Depth of a ResNet: which block and how many of them per stage.</summary>
public enum ResNetDepth
{
    ResNet18 = 18,
    ResNet34 = 34,
    ResNet50 = 50,
    ResNet101 = 101,

    /// <summary>
    /// The ResNet-18 of the ImageNet-pretrained file on NuGet (docs/pretrained.md): BasicBlocks
    /// [2, 2, 2, 3] — one block more in the last stage than torchvision's — behind the classic 7x7
    /// stem, whatever the head's reference trunk uses. Written <c>r18i</c>.
    /// </summary>
    ResNet18I = 1018,
}

/// <summary>How depths are written in architecture names.</summary>
public static class ResNetDepths
{
    public static string Token(ResNetDepth depth) => depth == ResNetDepth.ResNet18I ? "18i" : ((int)depth).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static ResNetDepth? FromToken(string token) => token switch
    {
        "18" => ResNetDepth.ResNet18, "18i" => ResNetDepth.ResNet18I, "34" => ResNetDepth.ResNet34,
        "50" => ResNetDepth.ResNet50, "101" => ResNetDepth.ResNet101, _ => null,
    };
}

/// <summary>The first layers of the trunk.</summary>
public enum ResNetStem
{
    /// <summary>One 7x7/2 convolution (torchvision, Caffe DeepLab, RefineNet): keys <c>conv1</c>, <c>bn1</c>.</summary>
    Classic,

    /// <summary>Three 3x3 convolutions 3→64/2, 64→64, 64→128 (the PSPNet trunk): keys <c>conv1..3</c>, <c>bn1..3</c>.</summary>
    Deep,
}

/// <summary>Which convolution of a bottleneck carries the stride.</summary>
public enum StrideOn
{
    /// <summary>The 3x3 (torchvision, PSPNet).</summary>
    Conv3x3,

    /// <summary>The first 1x1 (the Caffe ResNet of DeepLab-v2).</summary>
    Conv1x1,
}

/// <summary>
/// Everything that distinguishes the ResNet trunks used here. Output stride 8 replaces the strides
/// of layer3 and layer4 by dilations 2 and 4; output stride 32 keeps them.
/// </summary>
public sealed record ResNetSpec(
    ResNetDepth Depth,
    ResNetStem Stem,
    StrideOn StrideOn,
    int Layer3Dilation,
    int Layer4Dilation,
    bool CeilModeMaxPool,
    bool FrozenBatchNorm,
    double WidthMultiplier = 1.0)
{
    /// <summary>The PSPNet trunk: deep stem, stride on the 3x3, dilations 2 and 4 (output stride 8).</summary>
    public static ResNetSpec PspNet(ResNetDepth depth = ResNetDepth.ResNet101, double width = 1.0) =>
        new(depth, ResNetStem.Deep, StrideOn.Conv3x3, 2, 4, CeilModeMaxPool: true, FrozenBatchNorm: false, width);

    /// <summary>The Caffe-style DeepLab-v2 trunk: 7x7 stem, stride on the 1x1, frozen BN, output stride 8.</summary>
    public static ResNetSpec DeepLabV2(ResNetDepth depth = ResNetDepth.ResNet101, double width = 1.0) =>
        new(depth, ResNetStem.Classic, StrideOn.Conv1x1, 2, 4, CeilModeMaxPool: true, FrozenBatchNorm: true, width);

    /// <summary>The RefineNet trunk: a plain torchvision-style ResNet (output stride 32, the decoder goes back to 4).</summary>
    public static ResNetSpec RefineNet(ResNetDepth depth = ResNetDepth.ResNet101, double width = 1.0) =>
        new(depth, ResNetStem.Classic, StrideOn.Conv3x3, 1, 1, CeilModeMaxPool: false, FrozenBatchNorm: false, width);

    /// <summary>
    /// This trunk as the ImageNet-pretrained file lays it out: the classic 7x7 stem and a floor-mode
    /// max pool (the file's stride-2 windows are padded [1,1,0,0] and [3,3,2,2]: on even sizes the
    /// same windows as PyTorch's symmetric padding, see docs/pretrained.md). Head strides and dilations are kept.
    /// </summary>
    public ResNetSpec WithImageNetStem() => this with { Stem = ResNetStem.Classic, CeilModeMaxPool = false };

    public bool UsesBottleneck => Depth is ResNetDepth.ResNet50 or ResNetDepth.ResNet101;

    public int Expansion => UsesBottleneck ? 4 : 1;

    public IReadOnlyList<int> BlocksPerLayer => Depth switch
    {
        ResNetDepth.ResNet18 => [2, 2, 2, 2],
        ResNetDepth.ResNet18I => [2, 2, 2, 3],
        ResNetDepth.ResNet34 or ResNetDepth.ResNet50 => [3, 4, 6, 3],
        ResNetDepth.ResNet101 => [3, 4, 23, 3],
        _ => throw new ArgumentOutOfRangeException(nameof(Depth), Depth, "Unknown ResNet depth."),
    };

    /// <summary>Channels scaled by the width multiplier, rounded to a multiple of 8 (never below 8).</summary>
    public long Channels(int baseChannels) =>
        WidthMultiplier == 1.0 ? baseChannels : Math.Max(8, (long)Math.Round(baseChannels * WidthMultiplier / 8.0) * 8);

    /// <summary>Output channels of layer1..layer4.</summary>
    public IReadOnlyList<long> LayerChannels => [Channels(64) * Expansion, Channels(128) * Expansion, Channels(256) * Expansion, Channels(512) * Expansion];

    /// <summary>Output stride of layer4 (8, 16 or 32).</summary>
    public int OutputStride => 4 * 2 * (Layer3Dilation > 1 ? 1 : 2) * (Layer4Dilation > 1 ? 1 : 2);

    public void Validate()
    {
        if (WidthMultiplier is <= 0 or > 4) throw new ArgumentException($"ResNet width multiplier must be in (0, 4], got {WidthMultiplier}.");
        if (Layer3Dilation < 1 || Layer4Dilation < 1) throw new ArgumentException("ResNet dilations must be at least 1.");
        if (Layer3Dilation > 1 && Layer4Dilation == 1) throw new ArgumentException("A dilated layer3 needs a dilated layer4 (strides are replaced from the deepest layer up).");
    }
}
