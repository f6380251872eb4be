using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Torch;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Diagnostics;

/// <summary>The convolution check: its bound tells a wrong kernel from a rounded one, and after it the nets' convolutions are right.</summary>
public sealed class ConvolutionCheckTests
{
    [Fact]
    public void The_bound_holds_float32_rounding_and_catches_a_wrong_or_nan_result()
    {
        using var scope = NewDisposeScope();
        using var gen = new Generator(3);
        // A dot product of 4096 terms: float32's own sum is inside the bound, one a thousandth off is not.
        var a = randn([4096], generator: gen);
        var b = randn([4096], generator: gen);
        var exact = a.to(float64).mul(b.to(float64)).sum().reshape(1);
        var absTerms = a.to(float64).abs().mul(b.to(float64).abs()).sum().reshape(1);
        var float32 = a.mul(b).sum().reshape(1);
        var (relative, over) = ConvolutionCheck.Measure(float32, exact, absTerms, 4096);
        Assert.True(over <= 1, $"float32's own rounding is {over}x the bound");
        Assert.True(relative < 1e-3, $"{relative}");

        using var s = new ScalarScope();
        var wrong = float32.Plus(absTerms.to(float32).mul(s[1e-3]));
        Assert.True(ConvolutionCheck.Measure(wrong, exact, absTerms, 4096).OverBound > 1);
        var zero = float32.sub(float32);
        var nan = zero.div(zero); // 0/0
        Assert.Equal(double.PositiveInfinity, ConvolutionCheck.Measure(nan, exact, absTerms, 4096).OverBound);
    }

    /// <summary>
    /// The per-layer repair: a layer with padded channels computes the padded convolution through its own call (the hook replaces the
    /// output and so the graph), its gradients reach its own parameters, and the check — which tests the layer as it now computes — passes.
    /// </summary>
    [Fact]
    public void A_layer_with_padded_channels_computes_the_same_convolution_through_its_own_call()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(11);
        var plain = nn.Conv2d(16, 3, 7, bias: true);
        var padded = nn.Conv2d(16, 3, 7, bias: true);
        padded.load_state_dict(plain.state_dict());
        ConvolutionCheck.PadChannels(padded);
        ConvolutionCheck.PadChannels(padded); // twice is once
        using var gen = new Generator(12);
        var x = randn([2, 16, 20, 20], generator: gen);
        var y = padded.call(x);
        Assert.Equal(new long[] { 2, 3, 14, 14 }, y.shape);
        Assert.Equal(ConvolutionCheck.PaddedConvolution(padded, x, padded.weight!, padded.bias).data<float>().ToArray(), y.data<float>().ToArray());
        y.sum().backward();
        plain.call(x).sum().backward();
        Assert.Equal(new long[] { 3, 16, 7, 7 }, padded.weight!.grad!.shape);
        Assert.True(padded.weight.grad.abs().sum().item<float>() > 0, "no gradient reached the padded layer's weight");
        // Both are float32 sums of the same products in other orders: equal within the check's bound, which the check itself applies.
        Assert.Empty(ConvolutionCheck.Run([("padded", padded), ("plain", plain)], CPU));
        Assert.Throws<ArgumentException>(() => ConvolutionCheck.PadChannels(nn.ConvTranspose2d(16, 3, 3)));
        // What the repair rests on: a forward hook's tensor is what the module's call returns (the padded and the plain sums can be
        // bit-identical, so the values above cannot show it).
        var hooked = nn.Conv2d(1, 1, 1);
        hooked.register_forward_hook((_, _, _) => zeros(5));
        Assert.Equal(new long[] { 5 }, hooked.call(ones(1, 1, 2, 2)).shape);
    }

    /// <summary>
    /// On any CPU: once the check has settled oneDNN (the test assembly does it first, as training does), every convolution of
    /// the nets DANNet trains — LightNet's 3-channel output layer and the discriminators' 1-channel one included — is right.
    /// </summary>
    [Fact]
    public void After_the_check_every_convolution_of_the_trained_nets_is_within_the_bound()
    {
        using var nets = ConvolutionKernels.ProbeNets();
        var named = nets.ByName().ToList();
        using var light = new LightNet(16);
        named.Add(("light16", light));
        // Settled already: nothing is wrong now, so no note (and no switch) this time.
        Assert.Null(ConvolutionCheck.EnsureCorrect(named, CPU));
        var faults = ConvolutionCheck.Run(named, CPU);
        Assert.True(faults.Count == 0, string.Join("; ", faults));
        // The note names what was wrong and what was done, and goes with oneDNN off; no note, oneDNN stays as libtorch starts it.
        if (ConvolutionKernels.Note is { } note)
        {
            Assert.False(OneDnn.Enabled);
            Assert.Contains("libtorch's oneDNN convolutions are wrong on this CPU", note);
            Assert.Matches(@"\(\d+→\d+ \d+x\d+", note);
        }
        else Assert.True(OneDnn.Enabled);
    }
}
