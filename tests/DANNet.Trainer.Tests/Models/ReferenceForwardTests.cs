using DANNet.Trainer.Losses;
using DANNet.Trainer.Models;
using DANNet.Trainer.Diagnostics;
using DANNet.Trainer.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Models;

/// <summary>
/// The three segmentation nets of the paper behind the reference's LightNet, on the same seeded
/// weights (<see cref="SeededWeights"/>) and a real night image, against what the official code
/// computed (<c>tests/data/reference/segmentation_goldens.json</c>, made by the script beside it).
/// </summary>
/// <remarks>
/// The bound comes from the computation. In float64 two correct implementations of the same net
/// differ only by rounding at unit roundoff 2⁻⁵³; the same net in float32 (unit roundoff 2⁻²⁴) has
/// the rounding error <c>e32 = max |ours32 − ours64|</c>, measured here on this input, which is
/// 2²⁹ times larger for the same operations. So the float64 results must agree within e32: that
/// leaves a margin of 2²⁹ for summation order and kernel choice, and still fails on any
/// difference that float32 could resolve at all (a branch left out, a wrong dilation or padding,
/// a different upsampling rule each move the logits by far more than float32 rounding). Masks:
/// the float32 masks must agree on ≥ 99.9 % of pixels, and in float64 every pixel whose top-two
/// margin exceeds twice the bound must agree exactly.
/// </remarks>
[Collection(DANNet.Trainer.Tests.Data.SynthNight.SerialCollection.Name)]
public sealed class ReferenceForwardTests
{
    public static TheoryData<string, string> Nets => new()
    {
        { "pspnet", "pspnet-r101" },
        { "deeplabv2", "deeplabv2-r101" },
        { "refinenet", "refinenet-r101" },
    };

    [Theory]
    [MemberData(nameof(Nets))]
    public void Logits_and_masks_match_the_official_forward(string golden, string architecture)
    {
        using var scope = NewDisposeScope();
        var x32 = ReferenceData.SegmentationTensor("input", ScalarType.Float32);
        var ((r32, logits32, mask32), (r64, logits64, mask64)) = ForwardInBothPrecisions(architecture, x32);

        var refLogits64 = ReferenceData.SegmentationTensor($"{golden}.f64.logits", ScalarType.Float64);
        var refLogits32 = ReferenceData.SegmentationTensor($"{golden}.f32.logits", ScalarType.Float32);
        var refR64 = ReferenceData.SegmentationTensor("light.f64.r", ScalarType.Float64);
        Assert.Equal(refLogits64.shape, logits64.shape);

        double e32 = MaxAbs(logits32.to(ScalarType.Float64) - logits64), e32Light = MaxAbs(r32.to(ScalarType.Float64) - r64);
        double d64 = MaxAbs(logits64 - refLogits64), d64Light = MaxAbs(r64 - refR64);
        double d32 = MaxAbs(logits32 - refLogits32);
        Console.WriteLine($"{architecture} vs official: float64 logits max |Δ| {d64:E2} (bound e32 = {e32:E2}), LightNet r {d64Light:E2} (bound {e32Light:E2}); " +
            $"float32 logits max |Δ| {d32:E2}, largest |logit| {MaxAbs(refLogits64):F3}");
        Assert.True(d64Light <= e32Light, $"LightNet residual: float64 max |Δ| {d64Light:E2} exceeds the float32 rounding error {e32Light:E2}");
        Assert.True(d64 <= e32, $"{architecture}: float64 logits differ from the official forward by up to {d64:E2}, more than this net's float32 rounding error {e32:E2}");

        var refMask32 = ReferenceData.SegmentationTensor($"{golden}.f32.mask", ScalarType.Int64);
        var refMask64 = ReferenceData.SegmentationTensor($"{golden}.f64.mask", ScalarType.Int64);
        double agreement = mask32.eq(refMask32).to(ScalarType.Float64).mean().item<double>();
        Assert.True(agreement >= 0.999, $"{architecture}: float32 masks agree on {agreement:P3} of pixels (at least 99.9 % expected)");

        // Pixels whose decision is not a near tie in float64 must agree exactly.
        var up = DannetNets.Upsample(logits64 * TestWeights(ScalarType.Float64), x32.shape[2], x32.shape[3]);
        var top2 = up.topk(2, dim: 1).values;
        var margin = (top2[.., 0] - top2[.., 1]).squeeze(0);
        using var s = new ScalarScope();
        var decided = margin.gt(s[2 * e32 * 1.2]); // the re-weighting scales logits by at most 1.2 (s = 0.05)
        long disagreeing = mask64.squeeze(0).ne(refMask64.squeeze(0)).logical_and(decided).sum().item<long>();
        Assert.Equal(0, disagreeing);
        Assert.True(decided.to(ScalarType.Float64).mean().item<double>() > 0.99, "fewer than 99 % of the pixels are decided: the input is too flat to test the masks");
    }

    /// <summary>The check has teeth: DeepLab-v2 summing all four ASPP branches (this project's behaviour until the fix) fails it.</summary>
    [Fact]
    public void DeepLabV2_with_four_summed_branches_is_not_the_reference()
    {
        using var scope = NewDisposeScope();
        var ((_, logits32, mask32), (_, logits64, _)) = ForwardInBothPrecisions("deeplabv2aspp4-r101", ReferenceData.SegmentationTensor("input", ScalarType.Float32));
        double e32 = MaxAbs(logits32.to(ScalarType.Float64) - logits64);
        double d64 = MaxAbs(logits64 - ReferenceData.SegmentationTensor("deeplabv2.f64.logits", ScalarType.Float64));
        double agreement = mask32.eq(ReferenceData.SegmentationTensor("deeplabv2.f32.mask", ScalarType.Int64)).to(ScalarType.Float64).mean().item<double>();
        Console.WriteLine($"deeplabv2aspp4-r101 vs official deeplabv2: float64 logits max |Δ| {d64:E2} (bound {e32:E2}), masks agree on {agreement:P1}");
        Assert.True(d64 > e32, $"four summed branches came within the bound ({d64:E2} ≤ {e32:E2}): the check cannot tell the heads apart");
        Assert.True(agreement < 0.999);
    }

    /// <summary>The net with LightNet on the seeded weights, in eval mode, forward in float32 and then in float64.</summary>
    private static ((Tensor R, Tensor Logits, Tensor Mask) F32, (Tensor R, Tensor Logits, Tensor Mask) F64) ForwardInBothPrecisions(string architecture, Tensor x32)
    {
        using var nets = DannetNets.Create(ArchitectureSpec.Parse(architecture), relighting: true, withDiscriminators: false);
        foreach (var (_, net) in nets.Named()) SeededWeights.Fill(net);
        nets.Eval();
        var f32 = Forward(nets, x32);
        foreach (var (_, net) in nets.Named()) net.to(ScalarType.Float64);
        return (f32, Forward(nets, x32.to(ScalarType.Float64)));
    }

    private static (Tensor R, Tensor Logits, Tensor Mask) Forward(DannetNets nets, Tensor x)
    {
        using var noGrad = no_grad();
        var (r, logits) = nets.Forward(x);
        var mask = DannetNets.Upsample(logits * TestWeights(x.dtype), x.shape[2], x.shape[3]).argmax(1);
        return (r!, logits, mask);
    }

    /// <summary>The reference evaluation's class weights (Cityscapes frequencies, s = 0.05), as a 1×19×1×1 tensor.</summary>
    private static Tensor TestWeights(ScalarType type) =>
        tensor(ClassWeights.FromFrequencies(ClassWeights.CityscapesFrequencies, ClassWeights.TrainingStrength)).to(type).view(1, -1, 1, 1);

    private static double MaxAbs(Tensor t) => t.abs().max().to(ScalarType.Float64).item<double>();
}
