using DANNet.Model.Onnx;
using TorchSharp;
using DANNet.Trainer.Onnx;
using DANNet.Trainer.Models.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Segmentation;

/// <summary>
/// DeepLab-v2 (the reference's <c>ResNetMulti</c>): Caffe-style ResNet with frozen BatchNorm, ASPP
/// classifiers with dilations 6, 12, 18, 24 on layer4 (<c>layer6</c>, main) and layer3 (<c>layer5</c>,
/// auxiliary, loaded but not used). As in the reference, the main output sums the branches of
/// dilations 6 and 12 only (<see cref="ReferenceSummedBranches"/>); <c>deeplabv2aspp4</c> sums all four.
/// </summary>
public sealed class DeepLabV2 : SegmentationNet, IHasFrozenParameters
{
    /// <summary>The ASPP dilations (every branch's parameters exist, keyed as in the reference).</summary>
    public static IReadOnlyList<long> Dilations { get; } = [6, 12, 18, 24];

    /// <summary>The branches the reference's classifier sums: its <c>return</c> stands inside the summing loop.</summary>
    public const int ReferenceSummedBranches = 2;

    private readonly AsppClassifier layer5;
    private readonly AsppClassifier layer6;

    public DeepLabV2(ResNetSpec spec, int numClasses = 19, int summedBranches = ReferenceSummedBranches)
        : base(nameof(DeepLabV2), new ResNetTrunk(spec), numClasses)
    {
        var channels = spec.LayerChannels;
        layer5 = new AsppClassifier(channels[2], Dilations, numClasses, summedBranches);
        layer6 = new AsppClassifier(channels[3], Dilations, numClasses, summedBranches);
        Trunk.RegisterInto(this);
        RegisterComponents();
        if (spec.FrozenBatchNorm) FreezeBatchNorm();
    }

    public override int OutputStride => Trunk.Spec.OutputStride;

    /// <summary>The ASPP branches the main output sums.</summary>
    public int SummedBranches => layer6.SummedBranches;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return layer6.call(Trunk.call(x).L4).MoveToOuterDisposeScope();
    }

    public override string EmitOnnx(OnnxGraph g, string x)
    {
        var features = Trunk.EmitOnnx(g, x);
        using (g.Scope("layer6")) return layer6.EmitOnnx(g, features.L4);
    }

    /// <summary>Keeps frozen BatchNorm layers in inference mode whatever mode the net is put in.</summary>
    public override void train(bool train = true)
    {
        base.train(train);
        if (Trunk.Spec.FrozenBatchNorm)
            foreach (var bn in modules().OfType<BatchNorm>()) bn.eval();
    }

    /// <summary>The BatchNorm parameters of a frozen-BN trunk (none otherwise).</summary>
    public IEnumerable<Parameter> FrozenParameters() =>
        Trunk.Spec.FrozenBatchNorm ? modules().OfType<BatchNorm>().SelectMany(bn => bn.parameters()) : [];

    private void FreezeBatchNorm()
    {
        foreach (var p in FrozenParameters()) p.requires_grad = false;
    }
}
