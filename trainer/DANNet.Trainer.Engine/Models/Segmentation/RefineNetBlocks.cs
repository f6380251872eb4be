using DANNet.Model.Onnx;
using DANNet.Trainer.Torch;
using TorchSharp;
using DANNet.Trainer.Onnx;
using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Segmentation;

/// <summary>
/// RefineNet's residual conv unit group: <c>blocks</c> residual units of <c>stages</c> (ReLU, 3x3 conv)
/// each. Module names follow the reference (<c>1_conv</c>, <c>1_conv_relu_varout_dimred</c>, …), which
/// is why they are registered by name rather than as fields.
/// </summary>
public sealed class ResidualConvUnit : Module<Tensor, Tensor>, IOnnxEmitter
{
    private readonly Conv2d[][] _convs;

    public ResidualConvUnit(long inPlanes, long outPlanes, int blocks, int stages) : base(nameof(ResidualConvUnit))
    {
        string[] suffix = ["_conv", "_conv_relu_varout_dimred"];
        _convs = new Conv2d[blocks][];
        for (int i = 0; i < blocks; i++)
        {
            _convs[i] = new Conv2d[stages];
            for (int j = 0; j < stages; j++)
            {
                var conv = Conv2d(i == 0 && j == 0 ? inPlanes : outPlanes, outPlanes, 3, padding: 1, bias: j == 0);
                _convs[i][j] = conv;
                register_module((i + 1).ToString(CultureInfo.InvariantCulture) + suffix[j], conv);
            }
        }
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var block in _convs)
        {
            var residual = x;
            foreach (var conv in block) x = conv.call(functional.relu(x));
            x = x.Plus(residual);
        }
        return x.MoveToOuterDisposeScope();
    }

    public string EmitOnnx(OnnxGraph g, string x)
    {
        var names = LayerEmitter.ChildNames(this);
        foreach (var block in _convs)
        {
            var residual = x;
            foreach (var conv in block)
                using (g.Scope(names[conv])) x = LayerEmitter.Emit(g, conv, g.Relu(x));
            x = g.Add(x, residual);
        }
        return x;
    }
}

/// <summary>RefineNet's chained residual pooling: repeated 5x5/1 max-pool + 3x3 conv, each added to the input.</summary>
public sealed class ChainedResidualPooling : Module<Tensor, Tensor>, IOnnxEmitter
{
    private readonly Conv2d[] _convs;
    private readonly MaxPool2d _pool = MaxPool2d(5, stride: 1, padding: 2);

    public ChainedResidualPooling(long inPlanes, long outPlanes, int stages) : base(nameof(ChainedResidualPooling))
    {
        _convs = new Conv2d[stages];
        for (int i = 0; i < stages; i++)
        {
            _convs[i] = Conv2d(i == 0 ? inPlanes : outPlanes, outPlanes, 3, padding: 1, bias: false);
            register_module((i + 1).ToString(CultureInfo.InvariantCulture) + "_outvar_dimred", _convs[i]);
        }
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var top = x;
        foreach (var conv in _convs)
        {
            top = conv.call(_pool.call(top));
            x = top.Plus(x);
        }
        return x.MoveToOuterDisposeScope();
    }

    public string EmitOnnx(OnnxGraph g, string x)
    {
        var names = LayerEmitter.ChildNames(this);
        var top = x;
        foreach (var conv in _convs)
        {
            using var scope = g.Scope(names[conv]);
            top = LayerEmitter.Emit(g, conv, LayerEmitter.Emit(g, _pool, top));
            x = g.Add(top, x);
        }
        return x;
    }
}
