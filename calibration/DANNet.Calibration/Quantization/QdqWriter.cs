using DANNet.Model.Onnx;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DANNet.Calibration.Quantization;

/// <summary>
/// Writes an explicitly quantised copy of a float model: for each calibrated activation tensor a
/// QuantizeLinear → DequantizeLinear pair (int8, zero point 0, the calibrated scale) that every
/// consumer reads instead; for each Conv weight an int8 initializer with one symmetric scale per
/// output channel (max |w| / 127) behind a DequantizeLinear (axis 0). Biases stay float. The
/// graph's inputs, outputs and metadata are unchanged; opset at least 13 (per-channel DequantizeLinear).
/// </summary>
public static class QdqWriter
{
    public static ModelProto Quantize(ModelProto floatModel, IReadOnlyDictionary<string, float> activationScales, IReadOnlySet<string>? keepFloat = null)
    {
        var model = floatModel.Clone();
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        if (opset is null || opset.Version < 13) throw new ArgumentException($"The model's opset is {opset?.Version.ToString() ?? "missing"}: per-channel Q/DQ needs opset 13 or later.");
        var g = model.Graph;
        var initializers = g.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var nodes = g.Node.ToList();
        var output = new List<NodeProto>();
        var quantizedWeights = new Dictionary<string, string>(StringComparer.Ordinal);

        // Each consumer of a quantised activation reads its own Q → DQ pair (same scale): ONNX Runtime
        // turns a pair into its int8 kernel's input only when nothing else shares it, and TensorRT
        // folds duplicates. Pairs are placed right before their consumer, so the order stays topological.
        var pairs = new Dictionary<string, int>(StringComparer.Ordinal);
        // Shapes of the float model's values, so that every new value gets its static shape in value_info too.
        var shapes = QuantizationPlan.Shapes(g);
        foreach (var node in nodes)
        {
            for (int i = 0; i < node.Input.Count; i++)
            {
                string tensor = node.Input[i];
                if (activationScales.TryGetValue(tensor, out float s) && keepFloat?.Contains(tensor) != true)
                    node.Input[i] = Insert(tensor, s);
            }
            if (node.OpType == "Conv" && node.Input.Count >= 2 && initializers.TryGetValue(node.Input[1], out var weight) && keepFloat?.Contains(node.Output[0]) != true)
                node.Input[1] = QuantizeWeight(weight);
            output.Add(node);
        }
        g.Node.Clear();
        g.Node.AddRange(output);
        // Float weights no node reads any more go (the file shrinks by about three quarters).
        var read = output.SelectMany(n => n.Input).ToHashSet(StringComparer.Ordinal);
        foreach (var name in quantizedWeights.Keys.Where(w => !read.Contains(w)).ToList()) g.Initializer.Remove(initializers[name]);
        return model;

        string Insert(string tensor, float scale)
        {
            if (!(scale > 0) || !float.IsFinite(scale)) throw new ArgumentException($"Tensor '{tensor}': scale {scale} is not positive and finite.");
            pairs.TryGetValue(tensor, out int k);
            pairs[tensor] = k + 1;
            string suffix = k == 0 ? "" : "_" + k.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // Every pair has its own scale and zero point. The k-th duplicate's scale is the calibrated one moved
            // by k float32 steps (a relative 1e-7 each): with equal values ONNX Runtime's constant sharing and
            // common-subexpression passes merge the pairs back into one shared pair, which its int8 kernels refuse.
            float pairScale = scale;
            for (int step = 0; step < k; step++) pairScale = MathF.BitIncrement(pairScale);
            string scaleName = AddInitializer(tensor + "_scale" + suffix, DataType.Float, BitConverter.GetBytes(pairScale), []);
            string zeroName = AddInitializer(tensor + "_zero_point" + suffix, DataType.Int8, [0], []);
            string q = tensor + "_quantized" + suffix, dq = tensor + "_dequantized" + suffix;
            output.Add(Node("QuantizeLinear", [tensor, scaleName, zeroName], q, tensor + "_QuantizeLinear" + suffix));
            output.Add(Node("DequantizeLinear", [q, scaleName, zeroName], dq, tensor + "_DequantizeLinear" + suffix));
            if (shapes.TryGetValue(tensor, out var dims))
            {
                Declare(q, DataType.Int8, dims);
                Declare(dq, DataType.Float, dims);
            }
            return dq;
        }

        string QuantizeWeight(TensorProto weight)
        {
            if (quantizedWeights.TryGetValue(weight.Name, out var done)) return done;
            var (shape, data) = TensorProtos.Floats(weight, "the float model");
            long channels = shape[0], per = data.Length / channels;
            var scales = new float[channels];
            var q = new sbyte[data.Length];
            for (long c = 0; c < channels; c++)
            {
                float max = 0;
                for (long i = 0; i < per; i++) max = Math.Max(max, Math.Abs(data[c * per + i]));
                float scale = max > 0 ? max / 127f : 1f;
                scales[c] = scale;
                for (long i = 0; i < per; i++) q[c * per + i] = (sbyte)Math.Clamp(MathF.Round(data[c * per + i] / scale, MidpointRounding.ToEven), -127, 127);
            }
            string name = weight.Name;
            string qName = AddInitializer(name + "_quantized", DataType.Int8, System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan()).ToArray(), shape);
            string sName = AddInitializer(name + "_scale", DataType.Float, System.Runtime.InteropServices.MemoryMarshal.AsBytes(scales.AsSpan()).ToArray(), [channels]);
            string zName = AddInitializer(name + "_zero_point", DataType.Int8, new byte[channels], [channels]);
            string dq = name + "_dequantized";
            var node = Node("DequantizeLinear", [qName, sName, zName], dq, name + "_DequantizeLinear");
            node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 0 });
            output.Add(node);
            Declare(dq, DataType.Float, shape);
            quantizedWeights[name] = dq;
            return dq;
        }

        void Declare(string name, DataType type, long[] dims)
        {
            var shape = new TensorShapeProto();
            foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            g.ValueInfo.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } });
        }

        string AddInitializer(string name, DataType type, byte[] bytes, long[] shape)
        {
            g.Initializer.Add(TensorProtos.Create(name, type, bytes, shape));
            return name;
        }
    }

    private static NodeProto Node(string op, string[] inputs, string outputName, string name)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.Add(outputName);
        return n;
    }
}
