using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Discriminators;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;
using DANNet.Trainer.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models;

/// <summary>
/// The nets of one DANNet run: the generator (LightNet, optional, and the segmentation net) and the
/// two discriminators (day and night, DANNet mode only). File names are those of a checkpoint folder.
/// </summary>
public sealed class DannetNets : IDisposable
{
    public const string LightFile = "light.pth", SegmentationFile = "segmentation.pth", DayDiscriminatorFile = "d_day.pth", NightDiscriminatorFile = "d_night.pth";

    private DannetNets(ArchitectureSpec architecture, LightNet? light, SegmentationNet segmentation, FcDiscriminator? day, FcDiscriminator? night)
    {
        Architecture = architecture;
        Light = light;
        Segmentation = segmentation;
        DayDiscriminator = day;
        NightDiscriminator = night;
    }

    public ArchitectureSpec Architecture { get; }
    public LightNet? Light { get; }
    public SegmentationNet Segmentation { get; }
    public FcDiscriminator? DayDiscriminator { get; }
    public FcDiscriminator? NightDiscriminator { get; }

    public static DannetNets Create(ArchitectureSpec architecture, bool relighting, bool withDiscriminators, int discriminatorChannels = 64) => new(
        architecture,
        relighting ? architecture.CreateLightNet() : null,
        architecture.CreateSegmentationNet(),
        withDiscriminators ? new FcDiscriminator(ndf: discriminatorChannels) : null,
        withDiscriminators ? new FcDiscriminator(ndf: discriminatorChannels) : null);

    /// <summary>Every net with its checkpoint file name.</summary>
    public IEnumerable<(string File, Module Net)> Named()
    {
        if (Light is not null) yield return (LightFile, Light);
        yield return (SegmentationFile, Segmentation);
        if (DayDiscriminator is not null) yield return (DayDiscriminatorFile, DayDiscriminator);
        if (NightDiscriminator is not null) yield return (NightDiscriminatorFile, NightDiscriminator);
    }

    /// <summary>Every net with its short name (the checkpoint file's, without .pth: light, segmentation, d_day, d_night).</summary>
    public IEnumerable<(string Name, Module Net)> ByName() => Named().Select(n => (Path.GetFileNameWithoutExtension(n.File), n.Net));

    public List<Parameter> GeneratorParameters() =>
        (Light?.parameters() ?? []).Concat(Segmentation.parameters()).Where(p => p.requires_grad).ToList();

    public List<Parameter> DiscriminatorParameters() =>
        (DayDiscriminator?.parameters() ?? []).Concat(NightDiscriminator?.parameters() ?? []).ToList();

    /// <summary>The device the nets' parameters are on.</summary>
    public Device Device => Segmentation.parameters().First().device;

    /// <summary>Moves every net (parameters and buffers) to <paramref name="device"/>.</summary>
    public void To(Device device)
    {
        foreach (var (_, net) in Named()) net.to(device);
    }

    public void Train()
    {
        foreach (var (_, net) in Named()) net.train();
    }

    public void Eval()
    {
        foreach (var (_, net) in Named()) net.eval();
    }

    /// <summary>The relighting residual r (null without LightNet) and the segmentation logits of x + r.</summary>
    public (Tensor? Residual, Tensor Logits) Forward(Tensor x)
    {
        if (Light is null) return (null, Segmentation.call(x));
        var r = Light.call(x);
        using var relit = x.Plus(r);
        return (r, Segmentation.call(relit));
    }

    /// <summary>Logits bilinearly upsampled (align_corners) to <paramref name="height"/>×<paramref name="width"/>, as the reference does before every loss.</summary>
    public static Tensor Upsample(Tensor logits, long height, long width) =>
        functional.interpolate(logits, [height, width], mode: InterpolationMode.Bilinear, align_corners: true);

    public void Dispose()
    {
        foreach (var (_, net) in Named()) net.Dispose();
    }
}
