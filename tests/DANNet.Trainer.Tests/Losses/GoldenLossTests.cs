using DANNet.Trainer.Losses;
using DANNet.Trainer.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Losses;

/// <summary>Each loss against the reference implementation's golden values (golden.json).</summary>
public sealed class GoldenLossTests
{
    // Held for the tests' lifetime (docs/conventions.md).
    private static readonly Scalar Ignore = 255L.ToScalar(), StaticClasses = 11L.ToScalar();

    private static void Close(double expected, Tensor actual, double relative = 1e-4)
    {
        double value = actual.item<float>();
        Assert.True(Math.Abs(value - expected) <= Math.Max(1e-5, relative * Math.Abs(expected)), $"expected {expected}, got {value}");
    }

    private static Tensor Weights(double strength) => tensor(ClassWeights.FromFrequencies(ClassWeights.CityscapesFrequencies, strength));

    [Theory]
    [InlineData(0.05, "class_weights_std0.05")]
    [InlineData(0.16, "class_weights_std0.16")]
    public void Class_weights_from_frequencies(double strength, string golden)
    {
        using var scope = NewDisposeScope();
        var w = Weights(strength);
        Assert.True((w - ReferenceData.Tensor(golden)).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Training_weights_run_from_road_to_motorcycle()
    {
        var w = ClassWeights.FromFrequencies(ClassWeights.CityscapesFrequencies, ClassWeights.TrainingStrength);
        Assert.Equal(0, Array.IndexOf(w, w.Min()));
        Assert.Equal(17, Array.IndexOf(w, w.Max()));
        Assert.Equal(0.904, w[0], 3);
        Assert.Equal(1.069, w[17], 3);
    }

    [Fact]
    public void Class_weights_from_the_golden_frequencies_too()
    {
        var f = ReferenceData.Tensor("class_frequencies").data<float>().Select(v => (double)v).ToArray();
        var w = ClassWeights.FromFrequencies(f, 0.05);
        var golden = ReferenceData.Tensor("class_weights_std0.05").data<float>().ToArray();
        for (int k = 0; k < 19; k++) Assert.Equal(golden[k], w[k], 4);
        Assert.Throws<ArgumentException>(() => ClassWeights.FromFrequencies([0.5, 0.5, 0.0], 0.05));
    }

    [Fact]
    public void Light_loss_terms()
    {
        using var scope = NewDisposeScope();
        var x = ReferenceData.Tensor("light_input_x");
        var r = ReferenceData.Tensor("light_residual_r");
        double e = ReferenceData.Scalar("exposure_target_E");
        Close(ReferenceData.Scalar("tv_loss_of_r"), TotalVariationLoss.Compute(r));
        Close(ReferenceData.Scalar("ssim_loss_mean"), SsimLoss.Compute(x.Plus(r), x));
        Close(ReferenceData.Scalar("exposure_loss"), ExposureLoss.Compute(x.Plus(r), e));
        var terms = LightLoss.Compute(x, r, e);
        Close(ReferenceData.Scalar("light_loss_total(10tv+ssim+exp)"), terms.Total);
    }

    [Fact]
    public void Exposure_target_is_the_mean_of_the_night_batch()
    {
        using var scope = NewDisposeScope();
        var night = tensor(new float[] { -1, 0, 1, 2 }).view(1, 1, 2, 2);
        Assert.Equal(0.5, ExposureLoss.Target(night), 6);
    }

    [Fact]
    public void Weighted_cross_entropy_ignores_255()
    {
        using var scope = NewDisposeScope();
        var logits = ReferenceData.Tensor("ce_logits");
        var labels = ReferenceData.Tensor("ce_label").to(ScalarType.Int64);
        Assert.True(labels.eq(Ignore).any().item<bool>(), "the golden case must contain ignored pixels");
        Close(ReferenceData.Scalar("weighted_ce_loss"), WeightedCrossEntropy.Compute(logits, labels, Weights(0.05)));
    }

    [Fact]
    public void Static_loss_with_the_intended_3x3_neighbourhood()
    {
        using var scope = NewDisposeScope();
        var logits = ReferenceData.Tensor("static_logits");
        var pseudo = ReferenceData.Tensor("static_pseudo_label").to(ScalarType.Int64);
        Close(ReferenceData.Scalar("static_loss_gamma1"), StaticLoss.Compute(logits, pseudo, Weights(0.05)[..11]));
    }

    [Fact]
    public void Static_loss_counts_a_neighbour_class_but_not_one_outside_the_window()
    {
        using var scope = NewDisposeScope();
        // One row, labels [3, 5, ign, ign, 7]. At x=0 the window holds 3 and 5, so the confident
        // class-5 prediction there counts; class 7, four pixels away, does not, however confident.
        var logits = zeros(1, 11, 1, 5);
        logits[0, 5, 0, 0] = tensor(4.0f);
        logits[0, 7, 0, 0] = tensor(6.0f);
        var pseudo = tensor(new long[] { 3, 5, 255, 255, 7 }).view(1, 1, 5);
        var loss = StaticLoss.Compute(logits, pseudo, ones(11)).item<float>();

        double Softmax(int c, double[] z) => Math.Exp(z[c]) / z.Sum(Math.Exp);
        double[] x0 = new double[11]; x0[5] = 4; x0[7] = 6;
        double[] flat = new double[11];
        double p0 = Math.Max(Softmax(3, x0), Softmax(5, x0));
        double p1 = Math.Max(Softmax(3, flat), Softmax(5, flat));
        double p4 = Softmax(7, flat);
        double Focal(double p) => -(1 - p) * Math.Log(p);
        Assert.Equal((Focal(p0) + Focal(p1) + Focal(p4)) / 3, loss, 5);
    }

    [Fact]
    public void Pseudo_label_fusion_matches_the_reference_rule()
    {
        using var scope = NewDisposeScope();
        var labels = PseudoLabelFusion.Fuse(ReferenceData.Tensor("fusion_day_logits"), ReferenceData.Tensor("fusion_night_logits"), Weights(0.05));
        var golden = ReferenceData.Tensor("fusion_pseudo_label").to(ScalarType.Int64);
        Assert.Equal(golden.shape, labels.shape);
        Assert.True(labels.equal(golden).all().item<bool>(), $"{(labels != golden).sum().item<long>()} of {golden.numel()} labels differ");
        Assert.True(labels.eq(Ignore).any().item<bool>() && labels.lt(StaticClasses).any().item<bool>());
    }

    [Fact]
    public void Lsgan_terms()
    {
        using var scope = NewDisposeScope();
        var d = ReferenceData.Tensor("lsgan_d_out");
        Close(ReferenceData.Scalar("lsgan_mse_to_0"), LsganLoss.Generator(d));
        Close(ReferenceData.Scalar("lsgan_mse_to_1"), LsganLoss.ToLabel(d, LsganLoss.TargetLabel));
        Close(0.5 * ReferenceData.Scalar("lsgan_mse_to_0") + 0.5 * ReferenceData.Scalar("lsgan_mse_to_1"), LsganLoss.Discriminator(d, d));
    }
}
