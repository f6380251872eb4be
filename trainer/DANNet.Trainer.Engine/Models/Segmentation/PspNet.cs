using DANNet.Model.Onnx;
using TorchSharp;
using DANNet.Trainer.Models.Layers;
using DANNet.Trainer.Onnx;
using DANNet.Trainer.Models.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Segmentation;

/// <summary>
/// PSPNet (DANNet's default and best segmentation net): dilated deep-stem ResNet (output stride 8),
/// pyramid pooling head <c>head</c> and the auxiliary head <c>dsn</c> on layer3 (loaded, not used).
/// </summary>
public sealed class PspNet : SegmentationNet
{
    private readonly Sequential head;
    private readonly Sequential dsn;

    public PspNet(ResNetSpec spec, int numClasses = 19) : base(nameof(PspNet), new ResNetTrunk(spec), numClasses)
    {
        // Head widths follow the trunk: 2048/4 = 512 pyramid channels and 1024/2 = 512 auxiliary
        // channels on ResNet-50/101 (the reference), proportionally fewer on lighter trunks.
        var channels = spec.LayerChannels;
        long mid = channels[3] / 4, auxMid = channels[2] / 2;
        head = Sequential(
            ("0", new PyramidPooling(channels[3], mid, [1, 2, 3, 6])),
            ("1", Conv2d(mid, numClasses, 1, bias: true)));
        dsn = Sequential(
            ("0", Conv2d(channels[2], auxMid, 3, padding: 1, bias: true)),
            ("1", new StableBatchNorm2d(auxMid)),
            ("2", Dropout2d(0.1)),
            ("3", Conv2d(auxMid, numClasses, 1, bias: true)));
        Trunk.RegisterInto(this);
        RegisterComponents();
    }

    public override int OutputStride => Trunk.Spec.OutputStride;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var features = Trunk.call(x);
        return head.call(features.L4).MoveToOuterDisposeScope();
    }

    public override string EmitOnnx(OnnxGraph g, string x)
    {
        var features = Trunk.EmitOnnx(g, x);
        using (g.Scope("head")) return LayerEmitter.Sequence(g, head, features.L4);
    }

    /// <summary>Main and auxiliary (layer3) logits, as the reference returns them.</summary>
    public (Tensor Main, Tensor Auxiliary) ForwardWithAuxiliary(Tensor x)
    {
        using var scope = NewDisposeScope();
        var features = Trunk.call(x);
        return (head.call(features.L4).MoveToOuterDisposeScope(), dsn.call(features.L3).MoveToOuterDisposeScope());
    }
}
