using System.Globalization;
using System.Text;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DANNet.Model.Onnx;

/// <summary>One reason TensorRT's ONNX parser would reject or mis-handle a model.</summary>
/// <param name="Where">The node, tensor or model field concerned.</param>
public sealed record ReadinessProblem(string Where, string Message)
{
    public override string ToString() => $"{Where}: {Message}";
}

/// <summary>The outcome of <see cref="TensorRtReadiness.Check"/>.</summary>
public sealed record ReadinessReport(
    long Opset, long IrVersion, int Nodes, int Initializers, long Parameters,
    IReadOnlyDictionary<string, int> OperatorCounts,
    IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyList<ReadinessProblem> Problems)
{
    public bool Ready => Problems.Count == 0;

    public override string ToString()
    {
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"IR version {IrVersion}, opset {Opset}, {Nodes} nodes, {Initializers} initializers, {Parameters:N0} weights");
        foreach (var i in Inputs) s.AppendLine(CultureInfo.InvariantCulture, $"  input  {i}");
        foreach (var o in Outputs) s.AppendLine(CultureInfo.InvariantCulture, $"  output {o}");
        s.AppendLine("  operators: " + string.Join(", ", OperatorCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} ×{kv.Value}")));
        if (Ready) s.AppendLine("TensorRT-ready: no problems found.");
        else
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"NOT TensorRT-ready: {Problems.Count} problem(s)");
            foreach (var p in Problems) s.AppendLine("  - " + p);
        }
        return s.ToString();
    }
}

/// <summary>
/// Checks a model against what TensorRT's ONNX parser (TensorRT 8.6 and 10.x, as on JetPack 6)
/// accepts, before anyone waits minutes for an engine build on the car: supported operators and
/// attributes, opset range, static shapes everywhere, UINT8 only at the graph's edges, no float64,
/// no int64 weights outside shape inputs, nothing training-only, and for explicitly quantised (Q/DQ)
/// models TensorRT's quantisation rules: int8, zero point 0, constant positive scales, per-tensor
/// activations, per-output-channel weights.
/// </summary>
public static class TensorRtReadiness
{
    public const long MinOpset = 9, MaxOpset = 20;

    // Operators the parser imports, with the restrictions checked below. Deliberately the subset a
    // segmentation graph needs; anything else is reported so that it is looked at, not assumed.
    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "Add", "ArgMax", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "Conv", "ConvTranspose",
        "Div", "Expand", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Identity", "LeakyRelu", "MatMul",
        "Max", "MaxPool", "Min", "Mul", "Pad", "QuantizeLinear", "DequantizeLinear", "ReduceMax", "ReduceMean", "ReduceSum", "Relu", "Reshape", "Resize", "Sigmoid",
        "Slice", "Softmax", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "Transpose", "Unsqueeze",
    };

    private static readonly HashSet<string> ResizeCoordinateModes = new(StringComparer.Ordinal)
    {
        "half_pixel", "pytorch_half_pixel", "tf_half_pixel_for_nn", "asymmetric", "align_corners",
    };

    // (operator, input index) pairs that ONNX defines as int64 shape tensors: TensorRT reads them as
    // shape information, not as weights to cast.
    private static readonly HashSet<(string, int)> ShapeInputs =
    [
        ("Reshape", 1), ("Resize", 3), ("Slice", 1), ("Slice", 2), ("Slice", 3), ("Slice", 4), ("Squeeze", 1), ("Unsqueeze", 1),
        ("Expand", 1), ("Pad", 1), ("Split", 1), ("ReduceSum", 1), ("ReduceMean", 1), ("ReduceMax", 1),
    ];

    public static ReadinessReport Check(ModelProto model)
    {
        var problems = new List<ReadinessProblem>();
        var graph = model.Graph ?? throw new ArgumentException("The model has no graph.");

        long opset = CheckOpsets(model, problems);
        var types = ValueTypes(graph, problems);
        var graphInputs = graph.Input.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);

        foreach (var init in graph.Initializer)
        {
            var t = (DataType)init.DataType;
            if (t == DataType.Double) problems.Add(new($"initializer '{init.Name}'", "float64 weights (TensorRT casts them down to float32); export float32."));
            if (t == DataType.Uint8) problems.Add(new($"initializer '{init.Name}'", "UINT8 weights; TensorRT allows UINT8 only at network inputs and outputs."));
        }

        // DequantizeLinear nodes of initializers (quantised weights), by output: their axis and whether they are per channel.
        var weightDequantizers = new Dictionary<string, (long Axis, bool PerChannel)>(StringComparer.Ordinal);
        foreach (var node in graph.Node.Where(n => n.OpType == "DequantizeLinear" && n.Input.Count > 1 && initializers.ContainsKey(n.Input[0])))
            weightDequantizers[node.Output[0]] = (node.Attribute.FirstOrDefault(a => a.Name == "axis")?.I ?? 1,
                initializers.TryGetValue(node.Input[1], out var sc) && sc.Dims.Aggregate(1L, (a, b) => a * b) > 1);

        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            string where = $"node '{(node.Name.Length > 0 ? node.Name : node.Output.FirstOrDefault())}' ({node.OpType})";
            counts[node.OpType] = counts.GetValueOrDefault(node.OpType) + 1;
            if (node.Domain.Length > 0 && node.Domain != "ai.onnx")
            {
                problems.Add(new(where, $"custom domain '{node.Domain}' needs a TensorRT plugin."));
                continue;
            }
            if (!Supported.Contains(node.OpType))
            {
                problems.Add(new(where, node.OpType is "Dropout"
                    ? "training-only Dropout in an inference graph; export in eval mode."
                    : $"operator {node.OpType} is not in the TensorRT ONNX parser's supported list."));
                continue;
            }
            CheckAttributes(node, where, types, problems);
            if (node.OpType is "QuantizeLinear" or "DequantizeLinear") CheckQdq(node, where, initializers, types, weightDequantizers, problems);
            if (node.OpType is "Conv" or "ConvTranspose" && node.Input.Count > 1 && !initializers.ContainsKey(node.Input[1]))
            {
                // Explicit quantisation: weights may come from a DequantizeLinear of an int8 initializer (TensorRT folds it).
                if (!weightDequantizers.TryGetValue(node.Input[1], out var dq))
                    problems.Add(new(where, $"convolution weights '{node.Input[1]}' are computed; TensorRT needs them as an initializer (or the DequantizeLinear of one)."));
                else if (dq.Axis != (node.OpType == "Conv" ? 0 : 1) && dq.PerChannel)
                    problems.Add(new(where, $"weights '{node.Input[1]}' are quantised per channel along axis {dq.Axis}; TensorRT needs the output-channel axis ({(node.OpType == "Conv" ? 0 : 1)})."));
            }
            for (int i = 0; i < node.Input.Count; i++)
                if (initializers.TryGetValue(node.Input[i], out var init) && (DataType)init.DataType == DataType.Int64 && !ShapeInputs.Contains((node.OpType, i)))
                    problems.Add(new(where, $"int64 weights '{init.Name}' as input {i}: TensorRT would cast them to int32; store them as int32 or float."));
            foreach (var input in node.Input)
                if (types.TryGetValue(input, out var t) && t == DataType.Uint8 && !graphInputs.Contains(input))
                    problems.Add(new(where, $"reads UINT8 tensor '{input}', which is not a network input (TensorRT allows UINT8 only at the network's edges)."));
            foreach (var output in node.Output)
                if (types.TryGetValue(output, out var t) && t == DataType.Uint8 && !graphOutputs.Contains(output))
                    problems.Add(new(where, $"produces UINT8 tensor '{output}' inside the network; cast to UINT8 only for a network output."));
        }

        return new ReadinessReport(opset, model.IrVersion, graph.Node.Count, graph.Initializer.Count,
            graph.Initializer.Sum(i => i.Dims.Aggregate(1L, (a, b) => a * b)),
            counts, graph.Input.Select(Describe).ToList(), graph.Output.Select(Describe).ToList(), problems);
    }

    /// <summary>
    /// TensorRT's rules for explicit quantisation: int8 with zero points 0, constant positive scales;
    /// activations per tensor (one scale); weights (a DequantizeLinear of an initializer) may have one
    /// scale per output channel.
    /// </summary>
    private static void CheckQdq(NodeProto node, string where, Dictionary<string, TensorProto> initializers, Dictionary<string, DataType> types,
        Dictionary<string, (long Axis, bool PerChannel)> weightDequantizers, List<ReadinessProblem> problems)
    {
        if (node.Input.Count < 3 || node.Input[2].Length == 0)
        {
            problems.Add(new(where, "no zero point: the default is uint8, and TensorRT quantises to int8 with zero point 0; give an int8 zero point of 0."));
            return;
        }
        if (!initializers.TryGetValue(node.Input[1], out var scale) || !initializers.TryGetValue(node.Input[2], out var zero))
        {
            problems.Add(new(where, "scale and zero point must be initializers (constants) for TensorRT."));
            return;
        }
        if ((DataType)zero.DataType != DataType.Int8) problems.Add(new(where, $"zero point '{zero.Name}' is {(DataType)zero.DataType}; TensorRT's Q/DQ are int8."));
        else if (zero.RawData.Span.ToArray().Any(b => b != 0) || zero.Int32Data.Any(v => v != 0))
            problems.Add(new(where, $"zero point '{zero.Name}' is not 0: TensorRT quantises symmetrically (zero point 0)."));
        float[] scales;
        try
        {
            scales = TensorProtos.Floats(scale, "scale").Data;
        }
        catch (InvalidDataException ex)
        {
            problems.Add(new(where, $"{ex.Message} TensorRT's scales are float constants."));
            return;
        }
        if (scales.Length == 0 || scales.Any(v => !(v > 0) || !float.IsFinite(v))) problems.Add(new(where, $"scale '{scale.Name}' has values that are not positive and finite."));
        bool perChannel = scales.Length > 1;
        bool isWeight = node.OpType == "DequantizeLinear" && weightDequantizers.ContainsKey(node.Output[0]);
        if (perChannel && !isWeight) problems.Add(new(where, $"per-channel scale on an activation ({scales.Length} values): TensorRT quantises activations per tensor."));
        if (node.OpType == "DequantizeLinear" && types.TryGetValue(node.Input[0], out var t) && t != DataType.Int8)
            problems.Add(new(where, $"dequantises {t}; TensorRT's explicit quantisation is int8."));
    }

    private static long CheckOpsets(ModelProto model, List<ReadinessProblem> problems)
    {
        long opset = -1;
        foreach (var import in model.OpsetImport)
        {
            if (import.Domain is "" or "ai.onnx") opset = import.Version;
            else problems.Add(new("opset_import", $"domain '{import.Domain}' (version {import.Version}) is not parsed by TensorRT without plugins."));
        }
        if (opset < 0) problems.Add(new("opset_import", "no default-domain opset."));
        else if (opset is < MinOpset or > MaxOpset) problems.Add(new("opset_import", $"opset {opset} is outside the range TensorRT's parser supports ({MinOpset}–{MaxOpset}); export opset 17."));
        return opset;
    }

    /// <summary>Element types of every typed value; reports values whose shape is missing or not static.</summary>
    private static Dictionary<string, DataType> ValueTypes(GraphProto graph, List<ReadinessProblem> problems)
    {
        var types = new Dictionary<string, DataType>(StringComparer.Ordinal);
        foreach (var init in graph.Initializer) types[init.Name] = (DataType)init.DataType;
        void Visit(ValueInfoProto v, string kind, bool required)
        {
            var tensor = v.Type?.TensorType;
            if (tensor is null)
            {
                if (required) problems.Add(new($"{kind} '{v.Name}'", "has no tensor type."));
                return;
            }
            types[v.Name] = (DataType)tensor.ElemType;
            if ((DataType)tensor.ElemType == DataType.Double) problems.Add(new($"{kind} '{v.Name}'", "is float64; TensorRT computes in float32/float16."));
            if (tensor.Shape is null) problems.Add(new($"{kind} '{v.Name}'", "has no shape; TensorRT needs static shapes (or optimisation profiles)."));
            else
                foreach (var d in tensor.Shape.Dim)
                    if (!d.HasDimValue || d.DimValue <= 0)
                    {
                        problems.Add(new($"{kind} '{v.Name}'", $"has a dynamic dimension ('{(d.HasDimParam ? d.DimParam : "?")}'); export with static shapes."));
                        break;
                    }
        }
        foreach (var v in graph.Input) Visit(v, "input", true);
        foreach (var v in graph.Output) Visit(v, "output", true);
        foreach (var v in graph.ValueInfo) Visit(v, "value", false);
        var produced = graph.Node.SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
        int untyped = produced.Count(p => !types.ContainsKey(p));
        if (untyped > 0)
            problems.Add(new("value_info", $"{untyped} intermediate value(s) have no static shape recorded; shapes cannot be verified as static."));
        return types;
    }

    private static void CheckAttributes(NodeProto node, string where, Dictionary<string, DataType> types, List<ReadinessProblem> problems)
    {
        string? Str(string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.S.ToStringUtf8();
        long? Int(string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I;
        switch (node.OpType)
        {
            case "Resize":
                string mode = Str("mode") ?? "nearest";
                if (mode is not ("nearest" or "linear")) problems.Add(new(where, $"Resize mode '{mode}': TensorRT supports nearest and linear."));
                string coordinates = Str("coordinate_transformation_mode") ?? "half_pixel";
                if (!ResizeCoordinateModes.Contains(coordinates)) problems.Add(new(where, $"Resize coordinate_transformation_mode '{coordinates}' is not supported by TensorRT."));
                break;
            case "ArgMax":
                if (node.Input.Count > 0 && types.TryGetValue(node.Input[0], out var t) && t is not (DataType.Float or DataType.Float16 or DataType.Int32 or DataType.Int64))
                    problems.Add(new(where, $"ArgMax on {t}: TensorRT supports float32, float16, int32 and int64."));
                if (Int("select_last_index") == 1) problems.Add(new(where, "ArgMax select_last_index=1 is not supported by TensorRT."));
                break;
            case "Pad":
                string padMode = Str("mode") ?? "constant";
                if (padMode != "constant") problems.Add(new(where, $"Pad mode '{padMode}': parsers before TensorRT 8.6 support only constant padding."));
                break;
            case "BatchNormalization":
                if (Int("training_mode") == 1) problems.Add(new(where, "BatchNormalization in training mode; export in eval mode."));
                break;
            case "Cast":
                if (Int("to") is { } to && (DataType)to == DataType.Double) problems.Add(new(where, "Cast to float64 is not supported by TensorRT."));
                break;
        }
    }

    private static string Describe(ValueInfoProto v)
    {
        var t = v.Type?.TensorType;
        if (t is null) return $"{v.Name} (untyped)";
        string dims = t.Shape is null ? "?" : string.Join(",", t.Shape.Dim.Select(d => d.HasDimValue ? d.DimValue.ToString(CultureInfo.InvariantCulture) : d.HasDimParam ? d.DimParam : "?"));
        return $"{v.Name} {((DataType)t.ElemType).ToString().ToUpperInvariant()} [{dims}]";
    }
}
