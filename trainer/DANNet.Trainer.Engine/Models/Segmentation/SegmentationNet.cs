using DANNet.Model.Onnx;
using System.Runtime.CompilerServices;
using DANNet.Trainer.Onnx;
using DANNet.Trainer.Models.Backbones;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Segmentation;

/// <summary>
/// A segmentation net on a ResNet trunk: image (normalised, N×3×H×W) → main-head class logits at
/// 1/<see cref="OutputStride"/> of the input. Auxiliary heads of the reference nets exist (their
/// weights load) but are not part of <c>forward</c>: DANNet trains and evaluates the main head only.
/// </summary>
public abstract class SegmentationNet : Module<Tensor, Tensor>, IOnnxEmitter
{
    // Boxed so that RegisterComponents does not register the trunk itself (its layers are registered
    // one by one under this net's names; registering both would prefix every key with the field name).
    private readonly StrongBox<ResNetTrunk> _trunk;

    protected SegmentationNet(string name, ResNetTrunk trunk, int numClasses) : base(name)
    {
        _trunk = new StrongBox<ResNetTrunk>(trunk);
        NumClasses = numClasses;
    }

    /// <summary>The trunk; its layers are registered under this net's own names.</summary>
    public ResNetTrunk Trunk => _trunk.Value!;

    public int NumClasses { get; }

    /// <summary>Input size ÷ logits size.</summary>
    public abstract int OutputStride { get; }

    /// <summary>The main-head logits' ONNX nodes (inference mode: no dropout, no auxiliary head).</summary>
    public abstract string EmitOnnx(OnnxGraph graph, string input);
}
