using DANNet.Trainer.Torch;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Losses;

/// <summary>Total variation of the relighting residual r: 2·(Σ(Δh r)²/((H−1)W) + Σ(Δw r)²/(H(W−1)))/B.</summary>
public static class TotalVariationLoss
{
    public static Tensor Compute(Tensor r)
    {
        using var scope = NewDisposeScope();
        using var s = new ScalarScope();
        long b = r.shape[0], h = r.shape[2], w = r.shape[3];
        var dh = (r[.., .., 1.., ..] - r[.., .., ..(int)(h - 1), ..]).pow(s[2]).sum();
        var dw = (r[.., .., .., 1..] - r[.., .., .., ..(int)(w - 1)]).pow(s[2]).sum();
        return dh.div(s[(h - 1) * w]).Plus(dw.div(s[h * (w - 1)])).mul(s[2.0]).div(s[b]).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Structural dissimilarity between the relit image and the input: 3x3 average pools over
/// reflection-padded inputs, C1 = 0.01², C2 = 0.03², clamp((1 − SSIM)/2, 0, 1), averaged.
/// </summary>
public static class SsimLoss
{
    private const double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;

    public static Tensor Compute(Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        using var s = new ScalarScope();
        var px = functional.pad(x, [1, 1, 1, 1], PaddingModes.Reflect);
        var py = functional.pad(y, [1, 1, 1, 1], PaddingModes.Reflect);
        Tensor Pool(Tensor t) => functional.avg_pool2d(t, 3, stride: 1);
        var muX = Pool(px);
        var muY = Pool(py);
        var sigmaX = Pool(px * px) - muX * muX;
        var sigmaY = Pool(py * py) - muY * muY;
        var sigmaXY = Pool(px * py) - muX * muY;
        var n = muX.mul(s[2]).mul(muY).Plus(s[C1]) * sigmaXY.mul(s[2]).Plus(s[C2]);
        var d = (muX * muX).Plus(muY * muY).Plus(s[C1]) * sigmaX.Plus(sigmaY).Plus(s[C2]);
        return (n / d).neg().Plus(s[1]).div(s[2]).clamp(s[0], s[1]).mean().MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Exposure control: the channel mean of the relit image, average-pooled in 32x32 patches, should
/// sit at the exposure level E; mean squared difference. E is the mean of the normalised night
/// batch, recomputed each iteration and used for all three domains.
/// </summary>
public static class ExposureLoss
{
    public const int Patch = 32;

    public static Tensor Compute(Tensor relit, double target, int patch = Patch)
    {
        using var e = tensor((float)target, device: relit.device);
        return Compute(relit, e, patch);
    }

    /// <summary>The loss against E given as a 0-dimensional tensor on the images' device (the training loop's: no trip to the host).</summary>
    public static Tensor Compute(Tensor relit, Tensor target, int patch = Patch)
    {
        using var scope = NewDisposeScope();
        using var s = new ScalarScope();
        var mean = relit.mean([1], keepdim: true);
        var pooled = functional.avg_pool2d(mean, patch, stride: patch);
        return pooled.sub(target).pow(s[2]).mean().MoveToOuterDisposeScope();
    }

    /// <summary>E: the mean of the (normalised) night batch, as a plain number (no gradient flows into it).</summary>
    public static double Target(Tensor nightBatch)
    {
        using var e = TargetOnDevice(nightBatch);
        return e.item<float>();
    }

    /// <summary>E as a detached 0-dimensional tensor where the batch is (the caller disposes it).</summary>
    public static Tensor TargetOnDevice(Tensor nightBatch)
    {
        using (no_grad()) return nightBatch.mean();
    }
}

/// <summary>The terms of the light loss, for logging.</summary>
public sealed record LightLossTerms(Tensor Total, Tensor TotalVariation, Tensor Ssim, Tensor Exposure);

/// <summary>DANNet's light loss on one domain: 10·TV(r) + SSIM_loss(x + r, x) + Exp(x + r, E).</summary>
public static class LightLoss
{
    public const double TotalVariationWeight = 10;

    private static readonly Scalar TotalVariationScalar = TotalVariationWeight.ToScalar();

    public static LightLossTerms Compute(Tensor x, Tensor r, double exposureTarget)
    {
        using var e = tensor((float)exposureTarget, device: x.device);
        return Compute(x, r, e);
    }

    /// <summary>The light loss with E as a 0-dimensional tensor on the images' device.</summary>
    public static LightLossTerms Compute(Tensor x, Tensor r, Tensor exposureTarget)
    {
        var relit = x.Plus(r);
        var tv = TotalVariationLoss.Compute(r);
        var ssim = SsimLoss.Compute(relit, x);
        var exposure = ExposureLoss.Compute(relit, exposureTarget);
        relit.Dispose();
        using var weighted = tv.mul(TotalVariationScalar);
        using var withSsim = weighted.Plus(ssim);
        return new LightLossTerms(withSsim.Plus(exposure), tv, ssim, exposure);
    }
}
