using DANNet.Model.Onnx;
using TorchSharp;
using DANNet.Trainer.Models.Layers;
using DANNet.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Backbones;

/// <summary>The four feature maps of a ResNet trunk (strides 4, 8, 8|16, 8|32).</summary>
public readonly record struct ResNetFeatures(Tensor L1, Tensor L2, Tensor L3, Tensor L4);

/// <summary>
/// One parameterised ResNet trunk for every segmentation net here (PSPNet's deep-stem dilated
/// ResNet, DeepLab-v2's Caffe ResNet, RefineNet's plain ResNet, and the lighter edge trunks).
/// Segmentation nets register its children under their own top-level names (<c>conv1</c>,
/// <c>bn1</c>, <c>layer1</c>…), which is what lets the reference state dicts load unchanged.
/// </summary>
public sealed class ResNetTrunk : Module<Tensor, ResNetFeatures>
{
    private readonly Conv2d conv1;
    private readonly StableBatchNorm2d bn1;
    private readonly Conv2d? conv2;
    private readonly StableBatchNorm2d? bn2;
    private readonly Conv2d? conv3;
    private readonly StableBatchNorm2d? bn3;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    public ResNetTrunk(ResNetSpec spec) : base(nameof(ResNetTrunk))
    {
        spec.Validate();
        Spec = spec;
        long inplanes;
        if (spec.Stem == ResNetStem.Deep)
        {
            long c64 = spec.Channels(64), c128 = spec.Channels(128);
            conv1 = Conv2d(3, c64, 3, stride: 2, padding: 1, bias: false);
            bn1 = new StableBatchNorm2d(c64);
            conv2 = Conv2d(c64, c64, 3, padding: 1, bias: false);
            bn2 = new StableBatchNorm2d(c64);
            conv3 = Conv2d(c64, c128, 3, padding: 1, bias: false);
            bn3 = new StableBatchNorm2d(c128);
            inplanes = c128;
        }
        else
        {
            inplanes = spec.Channels(64);
            conv1 = Conv2d(3, inplanes, 7, stride: 2, padding: 3, bias: false);
            bn1 = new StableBatchNorm2d(inplanes);
        }
        maxpool = MaxPool2d(3, stride: 2, padding: 1, ceil_mode: spec.CeilModeMaxPool);

        var blocks = spec.BlocksPerLayer;
        layer1 = MakeLayer(spec, ref inplanes, spec.Channels(64), blocks[0], stride: 1, dilation: 1);
        layer2 = MakeLayer(spec, ref inplanes, spec.Channels(128), blocks[1], stride: 2, dilation: 1);
        layer3 = MakeLayer(spec, ref inplanes, spec.Channels(256), blocks[2], stride: spec.Layer3Dilation > 1 ? 1 : 2, dilation: spec.Layer3Dilation);
        layer4 = MakeLayer(spec, ref inplanes, spec.Channels(512), blocks[3], stride: spec.Layer4Dilation > 1 ? 1 : 2, dilation: spec.Layer4Dilation);
        RegisterComponents();
    }

    public ResNetSpec Spec { get; }

    private static Sequential MakeLayer(ResNetSpec spec, ref long inplanes, long planes, int count, long stride, long dilation)
    {
        long outPlanes = planes * spec.Expansion;

        var layers = new List<(string, Module<Tensor, Tensor>)>();
        for (int i = 0; i < count; i++)
        {
            var down = i == 0 && (stride != 1 || inplanes != outPlanes)
                ? Sequential(("0", Conv2d(inplanes, outPlanes, 1, stride: stride, bias: false)), ("1", new StableBatchNorm2d(outPlanes)))
                : null;
            long s = i == 0 ? stride : 1;
            Module<Tensor, Tensor> block = spec.UsesBottleneck
                ? new Bottleneck(inplanes, planes, s, dilation, spec.StrideOn, down)
                : new BasicBlock(inplanes, planes, s, dilation, down);
            layers.Add((i.ToString(System.Globalization.CultureInfo.InvariantCulture), block));
            inplanes = outPlanes;
        }
        return Sequential(layers);
    }

    public override ResNetFeatures forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.call(conv1.call(x)));
        if (conv2 is not null)
        {
            y = functional.relu(bn2!.call(conv2.call(y)));
            y = functional.relu(bn3!.call(conv3!.call(y)));
        }
        y = maxpool.call(y);
        var l1 = layer1.call(y);
        var l2 = layer2.call(l1);
        var l3 = layer3.call(l2);
        var l4 = layer4.call(l3);
        return new ResNetFeatures(l1.MoveToOuterDisposeScope(), l2.MoveToOuterDisposeScope(), l3.MoveToOuterDisposeScope(), l4.MoveToOuterDisposeScope());
    }

    /// <summary>The trunk's ONNX nodes (its children named as registered in the owning net); the four feature values.</summary>
    public (string L1, string L2, string L3, string L4) EmitOnnx(OnnxGraph g, string x)
    {
        string y;
        using (g.Scope("conv1")) y = g.Relu(LayerEmitter.ConvBn(g, conv1, bn1, x));
        if (conv2 is not null)
        {
            using (g.Scope("conv2")) y = g.Relu(LayerEmitter.ConvBn(g, conv2, bn2, y));
            using (g.Scope("conv3")) y = g.Relu(LayerEmitter.ConvBn(g, conv3!, bn3, y));
        }
        using (g.Scope("maxpool")) y = LayerEmitter.Emit(g, maxpool, y);
        string l1, l2, l3, l4;
        using (g.Scope("layer1")) l1 = LayerEmitter.Sequence(g, layer1, y);
        using (g.Scope("layer2")) l2 = LayerEmitter.Sequence(g, layer2, l1);
        using (g.Scope("layer3")) l3 = LayerEmitter.Sequence(g, layer3, l2);
        using (g.Scope("layer4")) l4 = LayerEmitter.Sequence(g, layer4, l3);
        return (l1, l2, l3, l4);
    }

    /// <summary>A residual block's shortcut: the input itself, or its 1x1 projection (conv + BN, folded).</summary>
    public static string EmitShortcut(OnnxGraph g, Sequential? downsample, string x)
    {
        if (downsample is null) return x;
        using var scope = g.Scope("downsample");
        return LayerEmitter.Sequence(g, downsample, x);
    }

    /// <summary>Registers this trunk's children under <paramref name="owner"/>'s own names (conv1, bn1, layer1…).</summary>
    public void RegisterInto(Module owner)
    {
        foreach (var (name, child) in named_children())
            owner.register_module(name, child);
    }
}
