using DANNet.Model.Onnx;
using DANNet.Trainer.Export;
using DANNet.Trainer.Onnx;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DANNet.Trainer.Tests.Export;

/// <summary><c>check-onnx</c>'s rules: a good small graph passes, and each purpose-built bad one fails for its own reason.</summary>
public sealed class TensorRtReadinessTests
{
    /// <summary>uint8 image → Cast → Transpose → Conv → Relu → Resize → ArgMax → Cast → uint8 mask: the shape of our exports.</summary>
    private static ModelProto Good(Action<OnnxGraph, string>? tamper = null, long opset = 17)
    {
        var g = new OnnxGraph();
        string x = g.Input("image", DataType.Uint8, 1, 8, 8, 3);
        x = g.Transpose(g.Cast(x, DataType.Float), 0, 3, 1, 2);
        x = g.Relu(g.Conv(x, new float[4 * 3 * 9], [4, 3, 3, 3], new float[4], [1, 1], [1, 1], [1, 1]));
        tamper?.Invoke(g, x);
        x = g.ResizeBilinearAlignCorners(x, 16, 16);
        g.Output(g.Cast(g.ArgMax(x, 1), DataType.Uint8), "mask");
        var model = new ModelProto { IrVersion = 8, Graph = g.Build() };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    private static void AssertProblem(ModelProto model, string expected)
    {
        var report = TensorRtReadiness.Check(model);
        Assert.False(report.Ready, "expected a problem: " + expected);
        Assert.Contains(report.Problems, p => p.ToString().Contains(expected, StringComparison.Ordinal));
        Assert.Contains("NOT TensorRT-ready", report.ToString());
    }

    [Fact]
    public void Our_graph_shape_is_ready()
    {
        var report = TensorRtReadiness.Check(Good());
        Assert.True(report.Ready, report.ToString());
        Assert.Equal(17, report.Opset);
        Assert.Equal(["image UINT8 [1,8,8,3]"], report.Inputs);
        Assert.Equal(["mask UINT8 [1,16,16]"], report.Outputs);
        Assert.Equal(1, report.OperatorCounts["ArgMax"]);
        Assert.Equal(2, report.OperatorCounts["Cast"]);
    }

    [Fact]
    public void Opset_out_of_range() => AssertProblem(Good(opset: 21), "opset 21 is outside the range");

    [Fact]
    public void Dynamic_input_dimension()
    {
        var model = Good();
        model.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "batch" };
        AssertProblem(model, "input 'image': has a dynamic dimension ('batch')");
    }

    [Fact]
    public void Missing_intermediate_shapes()
    {
        var model = Good();
        model.Graph.ValueInfo.Clear();
        AssertProblem(model, "intermediate value(s) have no static shape recorded");
    }

    [Fact]
    public void Cubic_resize()
    {
        var model = Good();
        var resize = model.Graph.Node.Single(n => n.OpType == "Resize");
        resize.Attribute.Single(a => a.Name == "mode").S = ByteString.CopyFromUtf8("cubic");
        AssertProblem(model, "Resize mode 'cubic'");
    }

    [Fact]
    public void Unsupported_operator() =>
        AssertProblem(Good((g, x) => g.Node("NonZero", [x], DataType.Int64, [4, 64])), "operator NonZero is not in the TensorRT ONNX parser's supported list");

    [Fact]
    public void Training_only_dropout() =>
        AssertProblem(Good((g, x) => g.Node("Dropout", [x], DataType.Float, g.ShapeOf(x))), "training-only Dropout");

    [Fact]
    public void Uint8_inside_the_network() =>
        AssertProblem(Good((g, x) => g.Cast(g.Cast(x, DataType.Uint8), DataType.Float)), "produces UINT8 tensor");

    [Fact]
    public void Int64_weights_outside_shape_inputs() =>
        AssertProblem(Good((g, x) => g.Node("Add", [g.Cast(x, DataType.Int64), g.ShapeInitializer("offsets", 1, 2, 3, 4)], DataType.Int64, [1, 4, 8, 8])),
            "int64 weights");

    [Fact]
    public void Reflect_padding() =>
        AssertProblem(Good((g, x) => g.Node("Pad", [x, g.ShapeInitializer("pads", 0, 0, 1, 1, 0, 0, 1, 1)], DataType.Float, [1, 4, 10, 10], null, null, OnnxGraph.Attr("mode", "reflect"))),
            "Pad mode 'reflect'");

    [Fact]
    public void Float64_weights()
    {
        var model = Good();
        model.Graph.Initializer[0].DataType = (int)DataType.Double;
        AssertProblem(model, "float64 weights");
    }

    [Fact]
    public void Computed_convolution_weights()
    {
        var model = Good();
        var conv = model.Graph.Node.Single(n => n.OpType == "Conv");
        conv.Input[1] = conv.Input[0];
        AssertProblem(model, "convolution weights");
    }

    [Fact]
    public void Custom_domain_operator()
    {
        var model = Good();
        model.Graph.Node[2].Domain = "com.microsoft";
        AssertProblem(model, "custom domain 'com.microsoft' needs a TensorRT plugin");
    }
}
