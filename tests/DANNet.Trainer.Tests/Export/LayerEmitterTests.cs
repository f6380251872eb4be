using DANNet.Model.Onnx;
using DANNet.Trainer.Export;
using DANNet.Trainer.Onnx;
using DANNet.Trainer.Tests.Data.SynthNight;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DANNet.Trainer.Tests.Export;

/// <summary>Each TorchSharp layer's emitter against the layer itself, through ONNX Runtime, on awkward sizes.</summary>
[Collection(SerialCollection.Name)]
public sealed class LayerEmitterTests
{
    private static float[] RunOnnx(Module<Tensor, Tensor> module, Tensor x)
    {
        var g = new OnnxGraph();
        string input = g.Input("x", DataType.Float, x.shape);
        g.Output(LayerEmitter.Emit(g, module, input), "y");
        var model = new ModelProto { IrVersion = 8, Graph = g.Build() };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        using var session = OnnxParity.CreateCpuSession(model.ToByteArray(), 1);
        var data = x.contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(data, x.shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["x"], [value], ["y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public static TheoryData<string> Layers => ["adaptive-pool", "reflection-pad", "standalone-bn", "leaky-relu+tanh", "maxpool-ceil", "conv-transpose+bn", "dilated-strided-conv+bn"];

    private static Module<Tensor, Tensor> Build(string name) => name switch
    {
        "adaptive-pool" => Sequential(("0", AdaptiveAvgPool2d(6))),
        "reflection-pad" => Sequential(("0", ReflectionPad2d(3))),
        "standalone-bn" => Sequential(("0", BatchNorm2d(5))),
        "leaky-relu+tanh" => Sequential(("0", LeakyReLU(0.2)), ("1", Tanh())),
        "maxpool-ceil" => Sequential(("0", MaxPool2d(3, stride: 2, padding: 1, ceil_mode: true))),
        "conv-transpose+bn" => Sequential(("0", ConvTranspose2d(5, 4, 3, stride: 2, padding: 1, output_padding: 1, bias: false)), ("1", BatchNorm2d(4))),
        _ => Sequential(("0", Conv2d(5, 4, 3, stride: 2, padding: 2, dilation: 2, bias: true)), ("1", BatchNorm2d(4))),
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void Emitter_matches_the_layer(string name)
    {
        manual_seed(3);
        var module = Build(name);
        using (no_grad())
            foreach (var bn in module.modules().OfType<BatchNorm>())
            {
                bn.running_mean!.normal_(0, 0.5);
                bn.running_var!.uniform_(0.5, 2);
                bn.weight!.uniform_(0.5, 1.5);
                bn.bias!.normal_(0, 0.3);
            }
        module.eval();
        using var scope = NewDisposeScope();
        var x = randn(1, 5, 13, 17);   // odd, non-divisible sizes on purpose
        Tensor expected;
        using (no_grad()) expected = module.call(x);
        var actual = RunOnnx(module, x);
        var e = expected.contiguous().data<float>().ToArray();
        Assert.Equal(e.Length, actual.Length);
        double max = e.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(max <= 1e-5, $"{name}: max |Δ| {max:E2}");
    }

    [Fact]
    public void A_module_without_an_emitter_is_named_in_the_error()
    {
        var g = new OnnxGraph();
        string x = g.Input("x", DataType.Float, 1, 3, 8, 8);
        var ex = Assert.Throws<NotSupportedException>(() => LayerEmitter.Emit(g, GELU(), x));
        Assert.Contains("No ONNX emitter for GELU", ex.Message);
        Assert.Contains(nameof(IOnnxEmitter), ex.Message);
    }
}
