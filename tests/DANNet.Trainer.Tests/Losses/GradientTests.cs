using DANNet.Trainer.Losses;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Backbones;
using DANNet.Trainer.Models.Discriminators;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;
using DANNet.Trainer.Torch;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Tests.Losses;

/// <summary>Finite gradients from every loss, and generator and discriminator steps that touch only their own side.</summary>
public sealed class GradientTests
{
    // Held for the tests' lifetime (docs/conventions.md).
    private static readonly Scalar Tenth = 0.1.ToScalar(), Hundredth = 0.01.ToScalar(), Ignore = 255L.ToScalar();

    private static void AssertUsefulGradient(Tensor leaf, string what)
    {
        Assert.True(leaf.grad is not null, $"{what}: no gradient");
        Assert.True(isfinite(leaf.grad!).all().item<bool>(), $"{what}: non-finite gradient");
        Assert.True(leaf.grad!.abs().max().item<float>() > 0, $"{what}: gradient is zero everywhere");
    }

    [Fact]
    public void Every_loss_gives_finite_gradients()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(1);
        var x = randn(2, 3, 64, 64);
        var weights = tensor(ClassWeights.FromFrequencies(ClassWeights.CityscapesFrequencies, 0.05));

        foreach (var (name, loss) in new (string, Func<Tensor, Tensor>)[]
        {
            ("TV", r => TotalVariationLoss.Compute(r)),
            ("SSIM", r => SsimLoss.Compute(x.Plus(r), x)),
            ("exposure", r => ExposureLoss.Compute(x.Plus(r), -0.3)),
            ("light", r => LightLoss.Compute(x, r, -0.3).Total),
        })
        {
            var r = randn(2, 3, 64, 64).mul(Tenth).requires_grad_();
            loss(r).backward();
            AssertUsefulGradient(r, name);
        }

        var logits = randn(2, 19, 16, 16).requires_grad_();
        var labels = randint(0, 19, [2, 16, 16], dtype: int64);
        labels[0, 0, ..] = tensor(255L);
        WeightedCrossEntropy.Compute(logits, labels, weights).backward();
        AssertUsefulGradient(logits, "weighted cross-entropy");

        var staticLogits = randn(2, 11, 16, 16).requires_grad_();
        var pseudo = PseudoLabelFusion.Fuse(randn(2, 19, 16, 16), randn(2, 19, 16, 16), weights);
        StaticLoss.Compute(staticLogits, pseudo, weights[..11]).backward();
        AssertUsefulGradient(staticLogits, "static");

        var d = randn(2, 1, 8, 8).requires_grad_();
        LsganLoss.Generator(d).backward();
        AssertUsefulGradient(d, "LSGAN generator");
        var ds = randn(2, 1, 8, 8).requires_grad_();
        var dt = randn(2, 1, 8, 8).requires_grad_();
        LsganLoss.Discriminator(ds, dt).backward();
        AssertUsefulGradient(ds, "LSGAN discriminator (source)");
        AssertUsefulGradient(dt, "LSGAN discriminator (target)");
    }

    [Fact]
    public void Static_loss_with_no_valid_pixel_is_zero_with_zero_gradient()
    {
        using var scope = NewDisposeScope();
        var logits = randn(1, 11, 4, 4).requires_grad_();
        var loss = StaticLoss.Compute(logits, full(new long[] { 1, 4, 4 }, Ignore), ones(11));
        loss.backward();
        Assert.Equal(0, loss.item<float>());
        Assert.True(isfinite(logits.grad!).all().item<bool>());
    }

    [Fact]
    public void Generator_step_moves_only_the_generator_and_discriminator_step_only_the_discriminators()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(2);
        var light = new LightNet(ngf: 4);
        var seg = new PspNet(ResNetSpec.PspNet(ResNetDepth.ResNet18, 0.25));
        var dDay = new FcDiscriminator(ndf: 8);
        var dNight = new FcDiscriminator(ndf: 8);
        var generator = light.parameters().Concat(seg.parameters()).ToList();
        var discriminators = dDay.parameters().Concat(dNight.parameters()).ToList();
        var weights = tensor(ClassWeights.FromFrequencies(ClassWeights.CityscapesFrequencies, 0.05));
        var source = randn(2, 3, 64, 64);
        var labels = randint(0, 19, [2, 64, 64], dtype: int64);
        var day = randn(2, 3, 64, 64);
        var night = randn(2, 3, 64, 64).sub(HeldScalars.One);
        double e = ExposureLoss.Target(night);

        Tensor Predict(Tensor x, out Tensor r)
        {
            r = light.call(x);
            return functional.interpolate(seg.call(x.Plus(r)), [64, 64], mode: InterpolationMode.Bilinear, align_corners: true);
        }

        // Generator step: discriminators fixed.
        light.train(); seg.train();
        dDay.SetRequiresGrad(false); dNight.SetRequiresGrad(false);
        var gOpt = new StableSgd(generator, 0.01, momentum: 0.9, weightDecay: 5e-4);
        var dBefore = Snapshot(discriminators);
        var gBefore = Snapshot(generator);
        var ps = Predict(source, out var rs);
        var pd = Predict(day, out var rd);
        var pn = Predict(night, out var rn);
        var pseudo = PseudoLabelFusion.Fuse(pd.detach(), pn.detach(), weights);
        var gLoss = WeightedCrossEntropy.Compute(ps, labels, weights).Plus(LightLoss.Compute(source, rs, e).Total)
            .Plus(LsganLoss.Generator(dDay.call(functional.softmax(pd, 1))).mul(Hundredth)).Plus(LightLoss.Compute(day, rd, e).Total.mul(Hundredth))
            .Plus(LsganLoss.Generator(dNight.call(functional.softmax(pn, 1))).mul(Hundredth)).Plus(StaticLoss.Compute(pn[.., ..11], pseudo, weights[..11]))
            .Plus(LightLoss.Compute(night, rn, e).Total.mul(Hundredth));
        gOpt.zero_grad();
        gLoss.backward();
        Assert.All(discriminators, p => Assert.Null(p.grad));
        gOpt.step();
        Assert.True(Changed(generator, gBefore) > generator.Count / 2, "the generator step left most generator parameters unchanged");
        Assert.Equal(0, Changed(discriminators, dBefore));

        // Discriminator step: detached predictions, generator fixed.
        dDay.SetRequiresGrad(true); dNight.SetRequiresGrad(true);
        var dOpt = new StableAdam(discriminators, 1e-4, beta1: 0.9, beta2: 0.99);
        gBefore = Snapshot(generator);
        dBefore = Snapshot(discriminators);
        Tensor Prob(Tensor p) => functional.softmax(p.detach(), 1);
        var dLoss = LsganLoss.Discriminator(dDay.call(Prob(ps)), dDay.call(Prob(pd))).Plus(LsganLoss.Discriminator(dNight.call(Prob(ps)), dNight.call(Prob(pn))));
        foreach (var p in generator) p.grad = null;
        dOpt.zero_grad();
        dLoss.backward();
        Assert.All(generator, p => Assert.Null(p.grad));
        dOpt.step();
        Assert.Equal(discriminators.Count, Changed(discriminators, dBefore));
        Assert.Equal(0, Changed(generator, gBefore));

        light.Dispose(); seg.Dispose(); dDay.Dispose(); dNight.Dispose();
    }

    private static List<Tensor> Snapshot(IEnumerable<Tensor> parameters) => parameters.Select(p => p.detach().clone()).ToList();

    private static int Changed(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> before) =>
        parameters.Zip(before).Count(pair => !pair.First.equal(pair.Second).all().item<bool>());
}
