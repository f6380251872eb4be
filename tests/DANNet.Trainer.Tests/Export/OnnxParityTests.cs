using DANNet.Trainer.Data;
using DANNet.Trainer.Export;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;
using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Torch;
using DANNet.Trainer.Training;
using OpenCvSharp;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Export;

/// <summary>ONNX Runtime against TorchSharp for every architecture family, the paper's ResNet-101 nets and the edge variants.</summary>
[Collection(SerialCollection.Name)]
public sealed class OnnxParityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("pspnet-r101", 64, 128)]
    [InlineData("deeplabv2-r101", 64, 128)]
    [InlineData("refinenet-r101", 64, 128)]
    [InlineData("pspnet-r50-w0.25-l4", 72, 100)]
    [InlineData("pspnet-r18-w0.5-l16", 64, 96)]
    [InlineData("pspnet-r18-w0.25-l4", 60, 84)]
    [InlineData("deeplabv2-r18-w0.25-l4", 64, 96)]
    [InlineData("deeplabv2-r34-w0.25-l8", 68, 92)]
    [InlineData("refinenet-r18-w0.25-l4", 64, 96)]
    [InlineData("refinenet-r50-w0.25-l4", 96, 64)]
    public void Exported_graph_matches_TorchSharp(string name, int height, int width)
    {
        var architecture = ArchitectureSpec.Parse(name);
        var (light, segmentation) = ExportTestNets.Create(architecture, height, width);
        using var image = ExportTestNets.Image(height, width);
        var result = OnnxParity.Check(architecture, light, segmentation, image);
        // Random deep nets (calibrated BatchNorm, random γ) reach logits in the hundreds, where
        // float32 itself is off by more than 1e-4: the bound is 1e-4, or three times TorchSharp's own
        // float32 error (against float64) where that is larger.
        double float32Error = TorchFloat32Error(light, segmentation, image);
        double bound = Math.Max(1e-4, 3 * float32Error);
        output.WriteLine($"{name} {height}x{width}: {result}; TorchSharp float32 vs float64 {float32Error:E2}; bound {bound:E2}");
        Assert.True(result.MaxAbsLogitDiff <= bound, $"{result}; bound {bound:E2}");
        Assert.True(result.MaxAbsRelitDiff <= 1e-4, result.ToString());
        Assert.True(result.MaskAgreement >= 0.999, result.ToString());
    }

    [Fact]
    public void Well_scaled_nets_agree_within_1e_4()
    {
        // Edge nets whose logits are of a trained net's size (max |logit| around 10).
        foreach (var name in new[] { "pspnet-r18-w0.5-l16", "deeplabv2-r18-w0.25-l4", "refinenet-r18-w0.25-l4" })
        {
            var architecture = ArchitectureSpec.Parse(name);
            var (light, segmentation) = ExportTestNets.Create(architecture, 64, 96);
            using var image = ExportTestNets.Image(64, 96);
            var result = OnnxParity.Check(architecture, light, segmentation, image);
            output.WriteLine($"{name}: {result}");
            Assert.InRange(result.MaxAbsLogit, 1.0, 100.0);
            Assert.True(result.MaxAbsLogitDiff <= 1e-4, result.ToString());
            Assert.Equal(0, result.MaskMismatches);
        }
    }

    private static double TorchFloat32Error(LightNet light, SegmentationNet segmentation, Mat image)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = ImageTensors.Stack([image]);
        var relit = x.Plus(light.call(x));
        var single = segmentation.call(relit).to(ScalarType.Float64);
        segmentation.to(ScalarType.Float64, false);
        try
        {
            var reference = segmentation.call(relit.to(ScalarType.Float64));
            return (single - reference).abs().max().item<double>();
        }
        finally
        {
            segmentation.to(ScalarType.Float32, false);
        }
    }
}
