using DANNet.Calibration.Quantization;
using DANNet.Calibration.Statistics;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DANNet.Edge.Tests.Calibration;

/// <summary>The Q/DQ writer on a tiny hand-built net of the exported kind (uint8 image → Conv/Relu/residual Add → logits, mask).</summary>
public sealed class QdqWriterTests
{
    private const int H = 8, W = 12, C = 4;

    [Fact]
    public void The_quantised_tiny_net_runs_in_onnx_runtime_and_stays_close_to_float()
    {
        var model = TinyNet();
        var plan = QuantizationPlan.For(model);
        Assert.Equal(["c1", "c2", "r1", "x"], plan.Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
        // The image itself (three channels at the input's resolution) is calibrated by its range; the features are not.
        Assert.Equal(["x"], plan.Where(p => p.ImageLike).Select(p => p.Name).ToArray());

        var random = new Random(5);
        var frames = Enumerable.Range(0, 8).Select(_ => { var b = new byte[H * W * 3]; random.NextBytes(b); return b; }).ToList();
        Dictionary<string, AbsHistogram> histograms;
        using (var stats = new ActivationStatistics(model, plan, threads: 1)) histograms = stats.Collect(frames);
        var scales = histograms.ToDictionary(kv => kv.Key, kv => ScaleCalibration.Scale(ScaleCalibration.Threshold(kv.Value, CalibrationMethod.MinMax)));
        var quantised = QdqWriter.Quantize(model, scales);

        // The contract is kept: same inputs, outputs and metadata; opset ≥ 13; Q/DQ are int8 with zero point 0.
        Assert.Equal(model.Graph.Input.Select(i => i.Name), quantised.Graph.Input.Select(i => i.Name));
        Assert.Equal(model.Graph.Output.Select(o => o.Name), quantised.Graph.Output.Select(o => o.Name));
        Assert.Equal(model.MetadataProps, quantised.MetadataProps);
        var zeroPoints = quantised.Graph.Initializer.Where(t => t.Name.Contains("_zero_point", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(zeroPoints);
        Assert.All(zeroPoints, z => { Assert.Equal((int)DataType.Int8, z.DataType); Assert.All(z.RawData.ToByteArray(), b => Assert.Equal(0, b)); });
        // Weights are int8 per output channel; the float weights are gone.
        Assert.DoesNotContain(quantised.Graph.Initializer, t => t.Name is "w1" or "w2");
        var w1 = quantised.Graph.Initializer.Single(t => t.Name == "w1_scale");
        Assert.Equal([C], w1.Dims.ToArray());

        var (floatLogits, floatMask) = Run(model, frames[0]);
        var (intLogits, intMask) = Run(quantised, frames[0]);
        // 8 bits per tensor: each Q/DQ moves a value by at most half a step (range/254), weights likewise; four
        // quantised tensors and two weight sets in series stay within a few percent of the logits' range.
        double range = floatLogits.Max(Math.Abs);
        double worst = floatLogits.Zip(intLogits, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 0.05 * range, $"int8 logits differ by {worst} (range {range})");
        Assert.True(floatMask.Zip(intMask).Count(p => p.First == p.Second) >= 0.85 * floatMask.Length, "masks agree on fewer than 85 % of pixels");
    }

    [Fact]
    public void Scales_must_be_positive_and_the_opset_recent_enough()
    {
        var model = TinyNet();
        Assert.Throws<ArgumentException>(() => QdqWriter.Quantize(model, new Dictionary<string, float> { ["c1"] = 0f }));
        model.OpsetImport[0].Version = 11;
        var ex = Assert.Throws<ArgumentException>(() => QdqWriter.Quantize(model, new Dictionary<string, float> { ["c1"] = 0.1f }));
        Assert.Contains("opset 13", ex.Message);
    }

    private static (float[] Logits, byte[] Mask) Run(ModelProto model, byte[] frame)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model.ToByteArray(), options);
        using var input = OrtValue.CreateTensorValueFromMemory(frame, [1, H, W, 3]);
        using var run = new RunOptions();
        using var results = session.Run(run, ["image"], [input], ["logits", "mask"]);
        return (results[0].GetTensorDataAsSpan<float>().ToArray(), results[1].GetTensorDataAsSpan<byte>().ToArray());
    }

    /// <summary>image uint8 [1,H,W,3] → Cast → Transpose → x; c1 = Conv(x); r1 = Relu(c1); c2 = Conv(r1); logits = c2 + r1; mask = ArgMax.</summary>
    /// <summary>A tiny float model that follows the contract: <paramref name="batch"/> images of 12x8 per run.</summary>
    internal static ModelProto TinyNet(int batch = 1)
    {
        var g = new GraphProto { Name = "tiny" };
        var random = new Random(3);
        float[] Weights(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() - 0.5) * scale)).ToArray();
        void Init(string name, float[] data, params long[] dims)
        {
            var t = new TensorProto { Name = name, DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan())) };
            t.Dims.AddRange(dims);
            g.Initializer.Add(t);
        }
        void Value(string name, DataType type, params long[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            g.ValueInfo.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } });
        }
        ValueInfoProto Io(string name, DataType type, params long[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
        }
        NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
        {
            var n = new NodeProto { OpType = op, Name = output };
            n.Input.AddRange(inputs);
            n.Output.Add(output);
            n.Attribute.AddRange(attributes);
            g.Node.Add(n);
            return n;
        }
        AttributeProto Ints(string name, params long[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }; a.Ints.AddRange(v); return a; }
        AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

        g.Input.Add(Io("image", DataType.Uint8, batch, H, W, 3));
        Init("w1", Weights(C * 3 * 9, 0.02), C, 3, 3, 3);
        Init("b1", Weights(C, 0.5), C);
        Init("w2", Weights(C * C * 9, 0.5), C, C, 3, 3);
        Node("Cast", ["image"], "f", Int("to", (int)DataType.Float));
        Node("Transpose", ["f"], "x", Ints("perm", 0, 3, 1, 2));
        Node("Conv", ["x", "w1", "b1"], "c1", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        Node("Relu", ["c1"], "r1");
        Node("Conv", ["r1", "w2"], "c2", Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1));
        Node("Add", ["c2", "r1"], "logits");
        Node("ArgMax", ["logits"], "ids", Int("axis", 1), Int("keepdims", 0));
        Node("Cast", ["ids"], "mask", Int("to", (int)DataType.Uint8));
        Value("f", DataType.Float, batch, H, W, 3);
        foreach (var v in new[] { "x" }) Value(v, DataType.Float, batch, 3, H, W);
        foreach (var v in new[] { "c1", "r1", "c2" }) Value(v, DataType.Float, batch, C, H, W);
        Value("ids", DataType.Int64, batch, H, W);
        g.Output.Add(Io("logits", DataType.Float, batch, C, H, W));
        g.Output.Add(Io("mask", DataType.Uint8, batch, H, W));
        var model = new ModelProto { IrVersion = 8, Graph = g, ProducerName = "test" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        model.MetadataProps.Add(new StringStringEntryProto { Key = "dannet.format_version", Value = "1" });
        return model;
    }
}
