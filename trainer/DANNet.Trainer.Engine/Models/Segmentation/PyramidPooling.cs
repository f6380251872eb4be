using DANNet.Model.Onnx;
using TorchSharp;
using DANNet.Trainer.Models.Layers;
using DANNet.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Segmentation;

/// <summary>
/// PSPNet's pyramid pooling module: adaptive average pooling to bins 1, 2, 3, 6, a 1x1 conv each
/// (no BN, no bias), bilinear upsampling (align_corners) back to the feature size, concatenation
/// [pooled…, features], then 3x3 conv + BN + Dropout2d(0.1) without ReLU — as in the reference.
/// </summary>
public sealed class PyramidPooling : Module<Tensor, Tensor>, IOnnxEmitter
{
    private readonly ModuleList<Sequential> stages;
    private readonly Sequential bottleneck;

    public PyramidPooling(long features, long outFeatures, IReadOnlyList<long> bins) : base(nameof(PyramidPooling))
    {
        stages = new ModuleList<Sequential>(bins.Select(b => Sequential(("0", (Module<Tensor, Tensor>)AdaptiveAvgPool2d(b)), ("1", Conv2d(features, outFeatures, 1, bias: false)))).ToArray());
        bottleneck = Sequential(
            ("0", Conv2d(features + bins.Count * outFeatures, outFeatures, 3, padding: 1, bias: false)),
            ("1", new StableBatchNorm2d(outFeatures)),
            ("2", Dropout2d(0.1)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long h = x.shape[2], w = x.shape[3];
        var priors = stages.Select(s => functional.interpolate(s.call(x), [h, w], mode: InterpolationMode.Bilinear, align_corners: true)).Append(x).ToArray();
        return bottleneck.call(cat(priors, 1)).MoveToOuterDisposeScope();
    }

    public string EmitOnnx(OnnxGraph g, string x)
    {
        var shape = g.ShapeOf(x);
        var priors = new List<string>();
        for (int i = 0; i < stages.Count; i++)
        {
            using var scope = g.Scope($"stages.{i}");
            priors.Add(g.ResizeBilinearAlignCorners(LayerEmitter.Sequence(g, stages[i], x), shape[2], shape[3]));
        }
        priors.Add(x);
        using (g.Scope("bottleneck")) return LayerEmitter.Sequence(g, bottleneck, g.Concat(priors, 1));
    }
}
