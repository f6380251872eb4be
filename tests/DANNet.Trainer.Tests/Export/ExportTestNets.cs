using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;
using DANNet.Trainer.Torch;
using OpenCvSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Export;

/// <summary>
/// Nets with non-trivial BatchNorm statistics (so folding is really tested) and a smooth test image.
/// Running statistics come from one training-mode pass (momentum 1), which keeps activations at a
/// realistic scale through 101 layers; γ and β are then drawn at random.
/// </summary>
internal static class ExportTestNets
{
    public static (LightNet Light, SegmentationNet Segmentation) Create(ArchitectureSpec architecture, int height, int width, long seed = 1)
    {
        manual_seed(seed);
        var light = architecture.CreateLightNet();
        var segmentation = architecture.CreateSegmentationNet();
        using (no_grad())
        {
            var x = randn(2, 3, height, width);
            Calibrate(light, x);
            Calibrate(segmentation, x.Plus(light.call(x)));
        }
        light.eval();
        segmentation.eval();
        return (light, segmentation);
    }

    private static readonly TorchSharp.Scalar MinVariance = TorchSharp.ScalarExtensionMethods.ToScalar(0.01); // held (docs/conventions.md)

    private static void Calibrate(nn.Module<Tensor, Tensor> net, Tensor x)
    {
        var norms = net.modules().OfType<BatchNorm>().ToList();
        foreach (var bn in norms)
        {
            bn.momentum = 1.0;
            bn.train();
        }
        using (net.call(x)) { }
        foreach (var bn in norms)
        {
            bn.momentum = 0.1;
            // A channel that is constant on the calibration batch (a dead ReLU) would get a 300x
            // gain (1/sqrt(eps)) that no trained net has, amplifying rounding noise accordingly.
            bn.running_var!.clamp_(min: MinVariance);
            bn.weight!.uniform_(0.5, 1.5);
            bn.bias!.normal_(0, 0.1);
            bn.eval();
        }
    }

    /// <summary>A smooth random BGR image (blurred noise, darker at the top, like a dim street).</summary>
    public static Mat Image(int height, int width, int seed = 7)
    {
        var bytes = new byte[height * width * 3];
        new Random(seed).NextBytes(bytes);
        for (int y = 0; y < height; y++)
        {
            double gain = 0.4 + 0.6 * y / height;
            for (int i = y * width * 3; i < (y + 1) * width * 3; i++) bytes[i] = (byte)(bytes[i] * gain);
        }
        var image = new Mat(height, width, MatType.CV_8UC3);
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, image.Data, bytes.Length);
        Cv2.GaussianBlur(image, image, new OpenCvSharp.Size(7, 7), 2);
        return image;
    }
}
