using DANNet.Model.Onnx;
using DANNet.Trainer.Torch;
using TorchSharp;
using DANNet.Trainer.Models.Layers;
using DANNet.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Relighting;

/// <summary>
/// DANNet's relighting net: a small ResNet image-to-image generator whose tanh output r is a
/// residual — the segmentation net sees x + r. The reference uses 64 base channels (<c>ngf</c>);
/// edge variants use fewer (the 64-channel net at full resolution is the costliest part of a CPU
/// step). The layer indices inside <c>model</c> are the reference state-dict keys.
/// </summary>
public sealed class LightNet : Module<Tensor, Tensor>, IOnnxEmitter
{
    private readonly Sequential model;

    public LightNet(int ngf = 64, int residualBlocks = 3) : base(nameof(LightNet))
    {
        if (ngf < 4) throw new ArgumentException($"LightNet base channels must be at least 4, got {ngf}.");
        BaseChannels = ngf;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        void Add(Module<Tensor, Tensor> m) => layers.Add((layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), m));
        Add(ReflectionPad2d(3));
        Add(Conv2d(3, ngf, 7, bias: false));
        Add(new StableBatchNorm2d(ngf));
        Add(ReLU());
        Add(Conv2d(ngf, ngf * 2, 3, stride: 2, padding: 1, bias: false));
        Add(new StableBatchNorm2d(ngf * 2));
        Add(ReLU());
        Add(Conv2d(ngf * 2, ngf * 4, 3, stride: 2, padding: 1, bias: false));
        Add(new StableBatchNorm2d(ngf * 4));
        Add(ReLU());
        for (int i = 0; i < residualBlocks; i++) Add(new LightNetResidualBlock(ngf * 4));
        Add(ConvTranspose2d(ngf * 4, ngf * 2, 3, stride: 2, padding: 1, output_padding: 1, bias: false));
        Add(new StableBatchNorm2d(ngf * 2));
        Add(ReLU());
        Add(ConvTranspose2d(ngf * 2, ngf, 3, stride: 2, padding: 1, output_padding: 1, bias: false));
        Add(new StableBatchNorm2d(ngf));
        Add(ReLU());
        Add(ReflectionPad2d(3));
        Add(Conv2d(ngf, 3, 7, bias: true));
        Add(Tanh());
        model = Sequential(layers);
        RegisterComponents();
    }

    public int BaseChannels { get; }

    /// <summary>The residual r (same size as the input, in [-1, 1]). Input height and width must be multiples of 4.</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.shape[2] % 4 != 0 || x.shape[3] % 4 != 0)
            throw new ArgumentException($"LightNet needs height and width divisible by 4, got {x.shape[2]}x{x.shape[3]}.");
        return model.call(x);
    }

    public string EmitOnnx(OnnxGraph g, string x)
    {
        var shape = g.ShapeOf(x);
        if (shape[2] % 4 != 0 || shape[3] % 4 != 0)
            throw new ArgumentException($"LightNet needs height and width divisible by 4, got {shape[2]}x{shape[3]}.");
        using var scope = g.Scope("model");
        return LayerEmitter.Sequence(g, model, x);
    }
}

/// <summary>LightNet's residual block: reflect-pad, 3x3 conv, BN, ReLU, reflect-pad, 3x3 conv, BN, plus the input.</summary>
public sealed class LightNetResidualBlock : Module<Tensor, Tensor>, IOnnxEmitter
{
    private readonly Sequential conv_block;

    public LightNetResidualBlock(long channels) : base(nameof(LightNetResidualBlock))
    {
        conv_block = Sequential(
            ("0", ReflectionPad2d(1)),
            ("1", Conv2d(channels, channels, 3, bias: false)),
            ("2", new StableBatchNorm2d(channels)),
            ("3", ReLU()),
            ("4", ReflectionPad2d(1)),
            ("5", Conv2d(channels, channels, 3, bias: false)),
            ("6", new StableBatchNorm2d(channels)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return x.Plus(conv_block.call(x)).MoveToOuterDisposeScope();
    }

    public string EmitOnnx(OnnxGraph g, string x)
    {
        using (g.Scope("conv_block")) return g.Add(x, LayerEmitter.Sequence(g, conv_block, x));
    }
}
