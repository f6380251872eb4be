using DANNet.Trainer.Benchmarks;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Backbones;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;
using DANNet.Trainer.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Models;

public sealed class ArchitectureTests
{
    [Theory]
    [InlineData("pspnet-r101", SegmentationHead.PspNet, ResNetDepth.ResNet101, 1.0, 64)]
    [InlineData("deeplabv2-r18-l16", SegmentationHead.DeepLabV2, ResNetDepth.ResNet18, 1.0, 16)]
    [InlineData("refinenet-r50-w0.5", SegmentationHead.RefineNet, ResNetDepth.ResNet50, 0.5, 64)]
    [InlineData("PSPNet-R34-W0.75-L8", SegmentationHead.PspNet, ResNetDepth.ResNet34, 0.75, 8)]
    public void Names_parse_and_print_back(string name, SegmentationHead head, ResNetDepth depth, double width, int light)
    {
        var a = ArchitectureSpec.Parse(name);
        Assert.Equal(new ArchitectureSpec(head, depth, width, light), a);
        Assert.Equal(name.ToLowerInvariant(), a.ToString());
        Assert.Equal(a, ArchitectureSpec.Parse(a.ToString()));
    }

    [Fact]
    public void Every_head_has_exactly_one_table_row_and_an_unknown_head_is_an_error()
    {
        foreach (var head in Enum.GetValues<SegmentationHead>())
            Assert.Single(SegmentationHeads.All, f => f.Head == head);
        Assert.Equal(SegmentationHeads.All.Count, SegmentationHeads.All.Select(f => f.Name).Distinct().Count());
        foreach (var family in SegmentationHeads.All)
            Assert.Equal(family.Head, ArchitectureSpec.Parse(family.Name + "-r18").Head);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ArchitectureSpec((SegmentationHead)99, ResNetDepth.ResNet18).CreateSegmentationNet());
        Assert.Contains("has no row in SegmentationHeads.All", ex.Message);
    }

    [Theory]
    [InlineData("pspnet", "expected <head>-r<depth>")]
    [InlineData("unet-r18", "unknown head 'unet' (pspnet|deeplabv2|refinenet|deeplabv2aspp4)")]
    [InlineData("pspnet-r152", "depth 152 is not supported")]
    [InlineData("pspnet-r18-w0", "width multiplier")]
    [InlineData("pspnet-r18-l2", "at least 4 base channels")]
    public void Bad_names_say_what_is_wrong(string name, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => ArchitectureSpec.Parse(name));
        Assert.Contains(name, ex.Message);
        Assert.Contains(message, ex.Message);
    }

    [Theory]
    [InlineData("pspnet-r18-w0.25-l4", 8)]
    [InlineData("deeplabv2-r18-w0.25-l4", 8)]
    [InlineData("refinenet-r18-w0.25-l4", 4)]
    [InlineData("pspnet-r50-w0.25-l4", 8)]
    [InlineData("refinenet-r34-w0.25-l4", 4)]
    public void Edge_variants_build_run_and_are_smaller_than_the_reference(string name, int stride)
    {
        using var scope = NewDisposeScope();
        var a = ArchitectureSpec.Parse(name);
        var seg = a.CreateSegmentationNet();
        var light = a.CreateLightNet();
        Assert.Equal(stride, seg.OutputStride);
        seg.eval(); light.eval();
        using (no_grad())
        {
            var x = randn(1, 3, 64, 64);
            var logits = seg.call(x.Plus(light.call(x)));
            Assert.Equal(new long[] { 1, 19 }, logits.shape[..2]);
            Assert.InRange(logits.shape[2], 64 / stride, 64 / stride + 1);
        }
        Assert.True(seg.parameters().Sum(p => p.numel()) < 10_000_000);
        Assert.Equal(4, light.BaseChannels);
        seg.Dispose(); light.Dispose();
    }

    [Fact]
    public void Complexity_counts_parameters_and_the_multiply_adds_of_a_known_conv_net()
    {
        using var scope = NewDisposeScope();
        // 3→8 3x3 conv (padding 1) on 16x16, then 8→4 stride-2 transposed 3x3: 8·3·9·256 + 8·4·9·256 MACs.
        var net = nn.Sequential(("a", nn.Conv2d(3, 8, 3, padding: 1)), ("b", nn.ConvTranspose2d(8, 4, 3, stride: 2, padding: 1, output_padding: 1)));
        var c = ModelComplexity.Measure(net, 16, 16);
        Assert.Equal(3 * 8 * 9 + 8 + 8 * 4 * 9 + 4, c.Parameters);
        Assert.Equal(16 * 16 * 8 * 3 * 9 + 16 * 16 * 8 * 4 * 9, c.MultiplyAdds);
        net.Dispose();
    }

    [Fact]
    public void LightNet_has_exactly_the_official_nets_parameters()
    {
        using var light = new LightNet();
        long n = light.parameters().Sum(p => p.numel());
        // The official state dict's keys and shapes, less the batch-norm buffers (not parameters): about 4.3 M.
        long official = ReferenceData.Keys("lightnet")
            .Where(k => !k.Key.EndsWith(".running_mean", StringComparison.Ordinal) && !k.Key.EndsWith(".running_var", StringComparison.Ordinal)
                        && !k.Key.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .Sum(k => k.Shape.Aggregate(1L, (a, d) => a * d));
        Assert.Equal(official, n);
    }

    [Fact]
    public void Frozen_batch_norm_stays_frozen_in_training_mode()
    {
        using var scope = NewDisposeScope();
        var net = new DeepLabV2(ResNetSpec.DeepLabV2(ResNetDepth.ResNet18, 0.25));
        net.train();
        var bns = net.modules().OfType<TorchSharp.Modules.BatchNorm>().ToList();
        Assert.NotEmpty(bns);
        Assert.All(bns, bn => Assert.False(bn.training));
        Assert.All(bns.SelectMany(b => b.parameters()), p => Assert.False(p.requires_grad));
        net.SetRequiresGrad(true);
        Assert.All(bns.SelectMany(b => b.parameters()), p => Assert.False(p.requires_grad));
        var mean = bns[0].running_mean!.clone();
        net.call(randn(2, 3, 64, 64));
        Assert.True(bns[0].running_mean!.equal(mean).all().item<bool>(), "frozen BatchNorm statistics moved in training mode");
        net.Dispose();
    }

}

[Collection(DANNet.Trainer.Tests.Data.SynthNight.SerialCollection.Name)]
public sealed class MemoryTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void A_200_step_training_loop_does_not_grow_native_memory()
    {
        // bench-step measures the resident-set growth between the first and the last timed step.
        var r = StepBenchmark.Run(new StepBenchmarkOptions(ArchitectureSpec.Parse("pspnet-r18-w0.25-l4"), 32, 32, 1, Warmup: 60, Iterations: 200, ForwardIterations: 1));
        double growthMb = r.TrainStepRssGrowthBytes / 1048576.0;
        output.WriteLine($"resident set growth over 200 steps: {growthMb:F2} MB (peak {r.PeakWorkingSetBytes / 1048576.0:F0} MB)");
        Assert.True(growthMb < 40, $"resident set grew by {growthMb:F1} MB over 200 training steps");
    }
}
