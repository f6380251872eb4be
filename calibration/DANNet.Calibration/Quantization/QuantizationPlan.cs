using Onnx;

namespace DANNet.Calibration.Quantization;

/// <summary>Why a tensor is quantised.</summary>
public enum TensorRole
{
    /// <summary>The activation input of a Conv.</summary>
    ConvInput,

    /// <summary>The output of a Conv (quantised so that ONNX Runtime's CPU runs the Conv as one int8 kernel).</summary>
    ConvOutput,

    /// <summary>An input of a residual Add (both inputs, so that TensorRT can fuse the Add into the Conv before it).</summary>
    AddInput,
}

/// <summary>One activation tensor to calibrate and quantise.</summary>
/// <param name="ImageLike">A three-channel tensor at the input's resolution (the camera image, the relit image): its range is
/// calibrated by min-max whatever the method, because at night the few bright pixels (lamps, headlights) are the signal and
/// pixel values are discrete, which misleads the entropy search.</param>
public sealed record PlannedTensor(string Name, TensorRole Role, bool ImageLike = false);

/// <summary>
/// Which tensors of a float model get Q/DQ: every Conv's activation input and output, and both
/// inputs of every Add between activations (residuals). Weights are not in the plan: every Conv
/// whose weight is an initializer gets it quantised per output channel. What stays float: the
/// uint8 image input and its Cast, pooling MatMuls against constant matrices, Resize, ArgMax.
/// </summary>
public static class QuantizationPlan
{
    public static IReadOnlyList<PlannedTensor> For(ModelProto model)
    {
        var g = model.Graph;
        var initializers = g.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var floatValues = FloatValues(g);
        var shapes = Shapes(g);
        var input = g.Input.Select(i => shapes.GetValueOrDefault(i.Name)).FirstOrDefault(d => d is { Length: 4 });
        // The image input is NHWC [1,H,W,3]; an image-like tensor is NCHW [1,3,H,W] at that resolution.
        bool ImageLike(string name) => input is not null && shapes.TryGetValue(name, out var d) && d.Length == 4 && d[1] == 3
            && ((d[2] == input[1] && d[3] == input[2]) || (d[2] == input[2] && d[3] == input[3]));
        var plan = new List<PlannedTensor>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(string name, TensorRole role)
        {
            if (name.Length > 0 && !initializers.Contains(name) && floatValues.Contains(name) && seen.Add(name)) plan.Add(new PlannedTensor(name, role, ImageLike(name)));
        }
        var consumers = g.Node.SelectMany(n => n.Input.Select(i => (Input: i, n.OpType))).ToLookup(p => p.Input, p => p.OpType, StringComparer.Ordinal);
        foreach (var node in g.Node)
        {
            switch (node.OpType)
            {
                case "Conv" when node.Input.Count >= 2 && initializers.Contains(node.Input[1]):
                    Add(node.Input[0], TensorRole.ConvInput);
                    // Outputs that stay inside the int8 trunk (into Relu, Conv, Add, MaxPool) are quantised; the
                    // classifier's logits (into the re-weighting, resize and argmax) stay float: 19 close
                    // scores share one scale there, and a step of it decides pixels.
                    if (consumers[node.Output[0]].All(op => op is "Relu" or "Conv" or "Add" or "MaxPool") && consumers[node.Output[0]].Any())
                        Add(node.Output[0], TensorRole.ConvOutput);
                    break;
                case "Add" when node.Input.All(i => !initializers.Contains(i)):
                    foreach (var i in node.Input) Add(i, TensorRole.AddInput);
                    break;
            }
        }
        return plan;
    }

    /// <summary>The static shape of every value the graph records (value_info, inputs, outputs), by name.</summary>
    internal static Dictionary<string, long[]> Shapes(GraphProto g) =>
        g.ValueInfo.Concat(g.Input).Concat(g.Output).Where(v => v.Type?.TensorType?.Shape is not null)
            .GroupBy(v => v.Name, StringComparer.Ordinal)
            .ToDictionary(v => v.Key, v => v.First().Type.TensorType.Shape.Dim.Select(d => d.DimValue).ToArray(), StringComparer.Ordinal);

    /// <summary>The float32 values of the graph (value_info, inputs, outputs).</summary>
    internal static HashSet<string> FloatValues(GraphProto g)
    {
        const int floatType = (int)TensorProto.Types.DataType.Float;
        return g.ValueInfo.Concat(g.Input).Concat(g.Output)
            .Where(v => v.Type?.TensorType?.ElemType == floatType)
            .Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
    }
}
