using DANNet.Model.Onnx;
using DANNet.Trainer.Torch;
using TorchSharp;
using DANNet.Trainer.Models.Layers;
using DANNet.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Backbones;

/// <summary>The ResNet bottleneck block (1x1 reduce, 3x3, 1x1 expand ×4). Field names are the state-dict keys.</summary>
public sealed class Bottleneck : Module<Tensor, Tensor>, IOnnxEmitter
{
    private readonly Conv2d conv1;
    private readonly StableBatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly StableBatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly StableBatchNorm2d bn3;
    private readonly Sequential? downsample;

    public Bottleneck(long inplanes, long planes, long stride, long dilation, StrideOn strideOn, Sequential? downsample) : base(nameof(Bottleneck))
    {
        conv1 = Conv2d(inplanes, planes, 1, stride: strideOn == StrideOn.Conv1x1 ? stride : 1, bias: false);
        bn1 = new StableBatchNorm2d(planes);
        conv2 = Conv2d(planes, planes, 3, stride: strideOn == StrideOn.Conv3x3 ? stride : 1, padding: dilation, dilation: dilation, bias: false);
        bn2 = new StableBatchNorm2d(planes);
        conv3 = Conv2d(planes, planes * 4, 1, bias: false);
        bn3 = new StableBatchNorm2d(planes * 4);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.call(conv1.call(x)));
        y = functional.relu(bn2.call(conv2.call(y)));
        y = bn3.call(conv3.call(y));
        var identity = downsample is null ? x : downsample.call(x);
        return functional.relu(y.Plus(identity)).MoveToOuterDisposeScope();
    }

    public string EmitOnnx(OnnxGraph g, string x)
    {
        string y;
        using (g.Scope("conv1")) y = g.Relu(LayerEmitter.ConvBn(g, conv1, bn1, x));
        using (g.Scope("conv2")) y = g.Relu(LayerEmitter.ConvBn(g, conv2, bn2, y));
        using (g.Scope("conv3")) y = LayerEmitter.ConvBn(g, conv3, bn3, y);
        return g.Relu(g.Add(y, ResNetTrunk.EmitShortcut(g, downsample, x)));
    }
}

/// <summary>The ResNet basic block (two 3x3), for ResNet-18/34 edge trunks.</summary>
public sealed class BasicBlock : Module<Tensor, Tensor>, IOnnxEmitter
{
    private readonly Conv2d conv1;
    private readonly StableBatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly StableBatchNorm2d bn2;
    private readonly Sequential? downsample;

    public BasicBlock(long inplanes, long planes, long stride, long dilation, Sequential? downsample) : base(nameof(BasicBlock))
    {
        conv1 = Conv2d(inplanes, planes, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        bn1 = new StableBatchNorm2d(planes);
        conv2 = Conv2d(planes, planes, 3, padding: dilation, dilation: dilation, bias: false);
        bn2 = new StableBatchNorm2d(planes);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(bn1.call(conv1.call(x)));
        y = bn2.call(conv2.call(y));
        var identity = downsample is null ? x : downsample.call(x);
        return functional.relu(y.Plus(identity)).MoveToOuterDisposeScope();
    }

    public string EmitOnnx(OnnxGraph g, string x)
    {
        string y;
        using (g.Scope("conv1")) y = g.Relu(LayerEmitter.ConvBn(g, conv1, bn1, x));
        using (g.Scope("conv2")) y = LayerEmitter.ConvBn(g, conv2, bn2, y);
        return g.Relu(g.Add(y, ResNetTrunk.EmitShortcut(g, downsample, x)));
    }
}
