using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace DANNet.Model.Onnx;

/// <summary>
/// Builds one static-shape ONNX graph node by node. Every value it creates has a known element type
/// and shape (computed here with the same formulas PyTorch uses), so emitters can size what comes
/// next (resize targets, pooling matrices, padding indices) without running anything, and the
/// written graph carries a complete <c>value_info</c>: every shape in it is static, as TensorRT
/// wants. Names follow the module path (<see cref="Scope"/>), so a TensorRT layer profile reads
/// like the PyTorch state dict.
/// </summary>
public sealed class OnnxGraph
{
    private readonly GraphProto _graph = new() { Name = "dannet" };
    private readonly Dictionary<string, (DataType Type, long[] Shape)> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs = new(StringComparer.Ordinal);
    private readonly List<string> _scope = [];
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);

    public GraphProto Proto => _graph;

    /// <summary>The element type and shape of a value of this graph.</summary>
    public (DataType Type, long[] Shape) this[string value] =>
        _values.TryGetValue(value, out var v) ? v : throw new KeyNotFoundException($"No value '{value}' in the graph.");

    public long[] ShapeOf(string value) => this[value].Shape;

    /// <summary>Prefixes the names of everything created until disposed with <paramref name="name"/> (nested with '.').</summary>
    public IDisposable Scope(string name)
    {
        _scope.Add(name);
        return new PopScope(_scope);
    }

    private sealed class PopScope(List<string> scope) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            scope.RemoveAt(scope.Count - 1);
            _done = true;
        }
    }

    private string ScopedName(string leaf) => _scope.Count == 0 ? leaf : string.Join('.', _scope) + "." + leaf;

    private string Unique(string leaf)
    {
        string name = ScopedName(leaf);
        if (!_values.ContainsKey(name) && _counters.TryAdd(name, 0)) return name;
        int n = _counters.TryGetValue(name, out var c) ? c + 1 : 1;
        while (_values.ContainsKey($"{name}_{n}")) n++;
        _counters[name] = n;
        return $"{name}_{n}";
    }

    public string Input(string name, DataType type, params long[] shape)
    {
        Declare(name, type, shape);
        _graph.Input.Add(ValueInfo(name, type, shape));
        return name;
    }

    /// <summary>
    /// Makes <paramref name="value"/> a graph output named <paramref name="name"/> by renaming it
    /// everywhere (no Identity node: TensorRT would see a UINT8 mask pass through a layer). Returns
    /// the new name, which later nodes must use.
    /// </summary>
    public string Output(string value, string name)
    {
        if (value != name)
        {
            if (_graph.Input.Any(i => i.Name == value)) throw new ArgumentException($"Graph input '{value}' cannot also be output '{name}'.");
            if (_values.ContainsKey(name)) throw new ArgumentException($"A value named '{name}' exists already.");
            foreach (var node in _graph.Node)
            {
                for (int i = 0; i < node.Input.Count; i++) if (node.Input[i] == value) node.Input[i] = name;
                for (int i = 0; i < node.Output.Count; i++) if (node.Output[i] == value) node.Output[i] = name;
            }
            _values[name] = _values[value];
            _values.Remove(value);
        }
        _graphOutputs.Add(name);
        var (type, shape) = this[name];
        _graph.Output.Add(ValueInfo(name, type, shape));
        return name;
    }

    public string Initializer(string leaf, ReadOnlySpan<float> data, params long[] shape) =>
        AddInitializer(leaf, DataType.Float, MemoryMarshal.AsBytes(data), data.Length, shape);

    public string Initializer(string leaf, ReadOnlySpan<int> data, params long[] shape) =>
        AddInitializer(leaf, DataType.Int32, MemoryMarshal.AsBytes(data), data.Length, shape);

    /// <summary>An int64 initializer: only for inputs ONNX defines as int64 shape tensors (Resize sizes, Reshape shape).</summary>
    public string ShapeInitializer(string leaf, params long[] values) =>
        AddInitializer(leaf, DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan()), values.Length, [values.Length]);

    private string AddInitializer(string leaf, DataType type, ReadOnlySpan<byte> bytes, int count, long[] shape)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != count)
            throw new ArgumentException($"Initializer '{leaf}': {count} values do not fill shape [{string.Join(", ", shape)}].");
        string name = Unique(leaf);
        _graph.Initializer.Add(TensorProtos.Create(name, type, bytes, shape));
        Declare(name, type, shape);
        return name;
    }

    /// <summary>Adds a node with one output of the given type and shape, and returns the output's name.</summary>
    public string Node(string op, IReadOnlyList<string> inputs, DataType type, long[] shape, string? name = null, string? outputName = null, params AttributeProto[] attributes)
    {
        foreach (var input in inputs)
            if (input.Length > 0 && !_values.ContainsKey(input)) throw new ArgumentException($"{op}: input '{input}' is not a value of the graph.");
        string output = outputName ?? Unique(name ?? op);
        if (_values.ContainsKey(output)) throw new ArgumentException($"{op}: a value named '{output}' exists already.");
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        Declare(output, type, shape);
        return output;
    }

    private void Declare(string name, DataType type, long[] shape)
    {
        if (shape.Any(d => d <= 0)) throw new ArgumentException($"Value '{name}' would have a non-positive dimension: [{string.Join(", ", shape)}].");
        if (!_values.TryAdd(name, (type, (long[])shape.Clone()))) throw new ArgumentException($"A value named '{name}' exists already.");
    }

    /// <summary>The graph with <c>value_info</c> for every intermediate value (all static).</summary>
    public GraphProto Build()
    {
        var declared = new HashSet<string>(_graph.Input.Select(i => i.Name).Concat(_graph.Initializer.Select(i => i.Name)).Concat(_graphOutputs), StringComparer.Ordinal);
        _graph.ValueInfo.Clear();
        foreach (var node in _graph.Node)
            foreach (var output in node.Output)
                if (!declared.Contains(output))
                {
                    var (type, shape) = _values[output];
                    _graph.ValueInfo.Add(ValueInfo(output, type, shape));
                }
        return _graph;
    }

    public static ValueInfoProto ValueInfo(string name, DataType type, IReadOnlyList<long> shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto() };
        foreach (var d in shape) tensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    // ---- attributes ---------------------------------------------------------------------------

    public static AttributeProto Attr(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attr(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Attr(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    // ---- operators ----------------------------------------------------------------------------

    /// <summary>2-D convolution; <paramref name="weight"/> is [out, in/groups, kh, kw].</summary>
    public string Conv(string x, ReadOnlySpan<float> weight, long[] weightShape, ReadOnlySpan<float> bias, long[] stride, long[] padding, long[] dilation, long groups = 1)
    {
        var s = ShapeOf(x);
        if (s.Length != 4 || s[1] != weightShape[1] * groups)
            throw new ArgumentException($"Conv: input [{string.Join(", ", s)}] does not fit weight [{string.Join(", ", weightShape)}].");
        long oh = ConvOut(s[2], weightShape[2], stride[0], padding[0], dilation[0]);
        long ow = ConvOut(s[3], weightShape[3], stride[1], padding[1], dilation[1]);
        var inputs = new List<string> { x, Initializer("weight", weight, weightShape) };
        if (!bias.IsEmpty) inputs.Add(Initializer("bias", bias, weightShape[0]));
        return Node("Conv", inputs, DataType.Float, [s[0], weightShape[0], oh, ow], "conv", null,
            Attr("kernel_shape", weightShape[2], weightShape[3]), Attr("strides", stride),
            Attr("pads", padding[0], padding[1], padding[0], padding[1]), Attr("dilations", dilation), Attr("group", groups));
    }

    /// <summary>2-D transposed convolution; <paramref name="weight"/> is [in, out/groups, kh, kw].</summary>
    public string ConvTranspose(string x, ReadOnlySpan<float> weight, long[] weightShape, ReadOnlySpan<float> bias, long[] stride, long[] padding, long[] outputPadding, long[] dilation)
    {
        var s = ShapeOf(x);
        if (s.Length != 4 || s[1] != weightShape[0])
            throw new ArgumentException($"ConvTranspose: input [{string.Join(", ", s)}] does not fit weight [{string.Join(", ", weightShape)}].");
        long Out(int i) => (s[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (weightShape[2 + i] - 1) + outputPadding[i] + 1;
        var inputs = new List<string> { x, Initializer("weight", weight, weightShape) };
        if (!bias.IsEmpty) inputs.Add(Initializer("bias", bias, weightShape[1]));
        return Node("ConvTranspose", inputs, DataType.Float, [s[0], weightShape[1], Out(0), Out(1)], "convtranspose", null,
            Attr("kernel_shape", weightShape[2], weightShape[3]), Attr("strides", stride),
            Attr("pads", padding[0], padding[1], padding[0], padding[1]), Attr("output_padding", outputPadding), Attr("dilations", dilation));
    }

    private static long ConvOut(long size, long kernel, long stride, long pad, long dilation) =>
        (size + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1;

    /// <summary>Max pooling with PyTorch's output size (ceil mode included); refuses the one case ONNX sizes differently.</summary>
    public string MaxPool(string x, long[] kernel, long[] stride, long[] padding, bool ceilMode)
    {
        var s = ShapeOf(x);
        long Out(int i)
        {
            long span = s[2 + i] + 2 * padding[i] - kernel[i];
            long torchOut = (ceilMode ? (span + stride[i] - 1) / stride[i] : span / stride[i]) + 1;
            // PyTorch drops a last window that would start in the right padding; ONNX keeps it.
            if (ceilMode && (torchOut - 1) * stride[i] >= s[2 + i] + padding[i])
                throw new NotSupportedException($"MaxPool: ceil mode at input size {s[2 + i]} would start a window in the padding, where PyTorch and ONNX disagree; export at another size.");
            return torchOut;
        }
        return Node("MaxPool", [x], DataType.Float, [s[0], s[1], Out(0), Out(1)], "maxpool", null,
            Attr("kernel_shape", kernel), Attr("strides", stride), Attr("pads", padding[0], padding[1], padding[0], padding[1]), Attr("ceil_mode", ceilMode ? 1L : 0L));
    }

    public string Unary(string op, string x, params AttributeProto[] attributes) => Node(op, [x], this[x].Type, ShapeOf(x), op.ToLowerInvariant(), null, attributes);

    public string Relu(string x) => Unary("Relu", x);

    /// <summary>Element-wise binary op with numpy broadcasting.</summary>
    public string Binary(string op, string a, string b)
    {
        var sa = ShapeOf(a);
        var sb = ShapeOf(b);
        int rank = Math.Max(sa.Length, sb.Length);
        var shape = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            long da = i - (rank - sa.Length) >= 0 ? sa[i - (rank - sa.Length)] : 1;
            long db = i - (rank - sb.Length) >= 0 ? sb[i - (rank - sb.Length)] : 1;
            if (da != db && da != 1 && db != 1) throw new ArgumentException($"{op}: shapes [{string.Join(", ", sa)}] and [{string.Join(", ", sb)}] do not broadcast.");
            shape[i] = Math.Max(da, db);
        }
        return Node(op, [a, b], this[a].Type, shape, op.ToLowerInvariant());
    }

    public string Add(string a, string b) => Binary("Add", a, b);

    /// <summary>Bilinear resize to <paramref name="height"/>×<paramref name="width"/> with align_corners (PyTorch's <c>interpolate(..., align_corners=True)</c>).</summary>
    public string ResizeBilinearAlignCorners(string x, long height, long width)
    {
        var s = ShapeOf(x);
        if (s[2] == height && s[3] == width) return x;
        string sizes = ShapeInitializer("resize_sizes", s[0], s[1], height, width);
        return Node("Resize", [x, "", "", sizes], DataType.Float, [s[0], s[1], height, width], "resize", null,
            Attr("mode", "linear"), Attr("coordinate_transformation_mode", "align_corners"));
    }

    public string Concat(IReadOnlyList<string> values, long axis)
    {
        var shape = (long[])ShapeOf(values[0]).Clone();
        shape[axis] = values.Sum(v => ShapeOf(v)[axis]);
        return Node("Concat", values, this[values[0]].Type, shape, "concat", null, Attr("axis", axis));
    }

    /// <summary>Matrix product with numpy broadcasting of the leading dimensions.</summary>
    public string MatMul(string a, string b)
    {
        var sa = ShapeOf(a);
        var sb = ShapeOf(b);
        if (sa[^1] != sb[^2]) throw new ArgumentException($"MatMul: [{string.Join(", ", sa)}] × [{string.Join(", ", sb)}] do not fit.");
        var lead = sa.Length >= sb.Length ? sa[..^2] : sb[..^2];
        return Node("MatMul", [a, b], DataType.Float, [.. lead, sa[^2], sb[^1]], "matmul");
    }

    /// <summary>Gathers <paramref name="indices"/> (int32) along <paramref name="axis"/>.</summary>
    public string Gather(string x, string indices, long axis)
    {
        var shape = (long[])ShapeOf(x).Clone();
        var idx = ShapeOf(indices);
        if (idx.Length != 1) throw new ArgumentException("Gather: only 1-D indices are used here.");
        shape[axis] = idx[0];
        return Node("Gather", [x, indices], this[x].Type, shape, "gather", null, Attr("axis", axis));
    }

    public string Cast(string x, DataType to) => Node("Cast", [x], to, ShapeOf(x), "cast", null, Attr("to", (long)to));

    public string Transpose(string x, params long[] perm)
    {
        var s = ShapeOf(x);
        return Node("Transpose", [x], this[x].Type, perm.Select(p => s[p]).ToArray(), "transpose", null, Attr("perm", perm));
    }

    /// <summary>ArgMax over <paramref name="axis"/> without keeping it (int64 indices, the first maximum wins).</summary>
    public string ArgMax(string x, long axis)
    {
        var s = ShapeOf(x);
        var shape = s.Where((_, i) => i != axis).ToArray();
        return Node("ArgMax", [x], DataType.Int64, shape, "argmax", null, Attr("axis", axis), Attr("keepdims", 0L));
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{_graph.Node.Count} nodes, {_graph.Initializer.Count} initializers");
}
