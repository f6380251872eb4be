using DANNet.Model.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DANNet.Trainer.Onnx;

/// <summary>
/// ONNX for TorchSharp's own layers (Conv2d, ConvTranspose2d, BatchNorm2d, pooling, padding,
/// activations, Sequential) and the dispatch to <see cref="IOnnxEmitter"/> modules. BatchNorm is
/// folded into the convolution it follows; dropout is an identity at inference and emits nothing.
/// </summary>
public static class LayerEmitter
{
    /// <summary>Emits <paramref name="module"/> on <paramref name="x"/>.</summary>
    public static string Emit(OnnxGraph g, nn.Module module, string x) => module switch
    {
        IOnnxEmitter own => own.EmitOnnx(g, x),
        Sequential sequence => Sequence(g, sequence, x),
        Convolution conv => ConvBn(g, conv, null, x),
        BatchNorm bn => StandaloneBatchNorm(g, bn, x),
        ReLU => g.Relu(x),
        Tanh => g.Unary("Tanh", x),
        LeakyReLU leaky => g.Unary("LeakyRelu", x, OnnxGraph.Attr("alpha", (float)leaky.negative_slope)),
        MaxPool2d pool => g.MaxPool(x, pool.kernel_size, pool.stride ?? pool.kernel_size, pool.padding ?? [0, 0], pool.ceil_mode),
        ReflectionPad2d pad => ReflectionPad(g, x, pad.padding),
        AdaptiveAvgPool2d pool => AdaptiveAveragePool(g, x, pool.output_size[0], pool.output_size.Length > 1 ? pool.output_size[1] : pool.output_size[0]),
        Dropout or Dropout2d => x,
        _ => throw new NotSupportedException($"No ONNX emitter for {module.GetType().Name} ('{module.GetName()}'): implement {nameof(IOnnxEmitter)} on it."),
    };

    /// <summary>A Sequential's children in order, each under its key; a convolution directly followed by a BatchNorm2d is folded with it.</summary>
    public static string Sequence(OnnxGraph g, Sequential sequence, string x)
    {
        var children = sequence.named_children().ToList();
        for (int i = 0; i < children.Count; i++)
        {
            var (name, child) = children[i];
            using var scope = g.Scope(name);
            if (child is Convolution conv && i + 1 < children.Count && children[i + 1].module is BatchNorm bn)
            {
                x = ConvBn(g, conv, bn, x);
                i++;
            }
            else
            {
                x = Emit(g, child, x);
            }
        }
        return x;
    }

    /// <summary>A convolution (plain or transposed) with the inference-mode BatchNorm after it folded into its weights and bias.</summary>
    public static string ConvBn(OnnxGraph g, Convolution conv, BatchNorm? bn, string x)
    {
        if (conv.padding_mode != PaddingModes.Zeros)
            throw new NotSupportedException($"Convolution '{conv.GetName()}': padding mode {conv.padding_mode} is not exported (only zeros).");
        if (conv.padding is null) throw new NotSupportedException($"Convolution '{conv.GetName()}': symbolic padding ('same'/'valid') is not exported; give explicit padding.");
        long[] shape = conv.weight!.shape;
        float[] weight = Floats(conv.weight);
        // Transposed weights are [in, out/groups, kh, kw]; output channels are dimension 1.
        int outDim = conv.transposed ? 1 : 0;
        long outChannels = shape[outDim];
        float[] bias = conv.bias is null ? new float[outChannels] : Floats(conv.bias);
        bool hasBias = conv.bias is not null;
        if (bn is not null)
        {
            var (scale, shift) = BatchNormAffine(bn);
            if (scale.Length != outChannels) throw new ArgumentException($"BatchNorm '{bn.GetName()}' has {scale.Length} channels, the convolution before it {outChannels}.");
            ScaleChannels(weight, shape, outDim, scale);
            for (int c = 0; c < outChannels; c++) bias[c] = bias[c] * scale[c] + shift[c];
            hasBias = true;
        }
        long[] dilation = conv.dilation ?? [1, 1];
        return conv.transposed
            ? g.ConvTranspose(x, weight, shape, hasBias ? bias : [], conv.stride, conv.padding, conv.output_padding ?? [0, 0], dilation)
            : g.Conv(x, weight, shape, hasBias ? bias : [], conv.stride, conv.padding, dilation, conv.groups);
    }

    /// <summary>
    /// BatchNorm at inference as a per-channel affine map y = x·scale + shift, with
    /// scale = γ/√(var+ε) and shift = β − mean·scale.
    /// </summary>
    public static (float[] Scale, float[] Shift) BatchNormAffine(BatchNorm bn)
    {
        if (bn.running_mean is null || bn.running_var is null)
            throw new NotSupportedException($"BatchNorm '{bn.GetName()}' has no running statistics to fold.");
        float[] mean = Floats(bn.running_mean), variance = Floats(bn.running_var);
        float[]? gamma = bn.weight is null ? null : Floats(bn.weight);
        float[]? beta = bn.bias is null ? null : Floats(bn.bias);
        var scale = new float[mean.Length];
        var shift = new float[mean.Length];
        for (int c = 0; c < mean.Length; c++)
        {
            double s = (gamma?[c] ?? 1.0) / Math.Sqrt(variance[c] + bn.eps);
            scale[c] = (float)s;
            shift[c] = (float)((beta?[c] ?? 0.0) - mean[c] * s);
        }
        return (scale, shift);
    }

    private static string StandaloneBatchNorm(OnnxGraph g, BatchNorm bn, string x)
    {
        var (scale, shift) = BatchNormAffine(bn);
        long c = scale.Length;
        var scaled = g.Binary("Mul", x, g.Initializer("scale", scale, 1, c, 1, 1));
        return g.Add(scaled, g.Initializer("shift", shift, 1, c, 1, 1));
    }

    private static void ScaleChannels(float[] weight, long[] shape, int channelDim, float[] scale)
    {
        long inner = 1;
        for (int d = channelDim + 1; d < shape.Length; d++) inner *= shape[d];
        long outer = channelDim == 0 ? 1 : shape[0];
        long channels = shape[channelDim];
        for (long o = 0; o < outer; o++)
            for (long c = 0; c < channels; c++)
            {
                long start = (o * channels + c) * inner;
                for (long k = 0; k < inner; k++) weight[start + k] *= scale[c];
            }
    }

    /// <summary>
    /// Reflection padding as two Gathers with constant int32 indices (rows, then columns). Exact,
    /// and it avoids Pad's reflect mode, which TensorRT parsers older than 8.6 reject.
    /// </summary>
    public static string ReflectionPad(OnnxGraph g, string x, long[] padding)
    {
        // PyTorch order: left, right, top, bottom.
        long left = padding[0], right = padding.Length > 1 ? padding[1] : left;
        long top = padding.Length > 2 ? padding[2] : left, bottom = padding.Length > 3 ? padding[3] : left;
        var s = g.ShapeOf(x);
        string y = x;
        if (top > 0 || bottom > 0) y = g.Gather(y, g.Initializer("rows", ReflectIndices(s[2], top, bottom), s[2] + top + bottom), 2);
        if (left > 0 || right > 0) y = g.Gather(y, g.Initializer("cols", ReflectIndices(s[3], left, right), s[3] + left + right), 3);
        return y;
    }

    private static int[] ReflectIndices(long size, long before, long after)
    {
        if (before >= size || after >= size) throw new ArgumentException($"Reflection padding {before}/{after} needs an input larger than the padding, got {size}.");
        var indices = new int[size + before + after];
        for (long j = 0; j < indices.Length; j++)
        {
            long src = j - before;
            if (src < 0) src = -src;
            else if (src >= size) src = 2 * (size - 1) - src;
            indices[j] = (int)src;
        }
        return indices;
    }

    /// <summary>
    /// Adaptive average pooling to <paramref name="outH"/>×<paramref name="outW"/> as two matrix
    /// products with PyTorch's bin boundaries (start = ⌊i·n/b⌋, end = ⌈(i+1)·n/b⌉): exact for any
    /// input size, where a single AveragePool is exact only when the bins divide it.
    /// </summary>
    public static string AdaptiveAveragePool(OnnxGraph g, string x, long outH, long outW)
    {
        var s = g.ShapeOf(x);
        long h = s[2], w = s[3];
        var cols = PoolingMatrix(w, outW, transpose: true);
        var rows = PoolingMatrix(h, outH, transpose: false);
        var y = g.MatMul(x, g.Initializer("pool_cols", cols, w, outW));
        return g.MatMul(g.Initializer("pool_rows", rows, outH, h), y);
    }

    /// <summary>Averaging weights: [bins, n] (or [n, bins] transposed).</summary>
    private static float[] PoolingMatrix(long n, long bins, bool transpose)
    {
        var m = new float[n * bins];
        for (long b = 0; b < bins; b++)
        {
            long start = b * n / bins, end = ((b + 1) * n + bins - 1) / bins;
            float v = 1f / (end - start);
            for (long i = start; i < end; i++) m[transpose ? i * bins + b : b * n + i] = v;
        }
        return m;
    }

    /// <summary>The registered names of a module's children (for modules that keep them in arrays rather than fields).</summary>
    public static Dictionary<nn.Module, string> ChildNames(nn.Module module) =>
        module.named_children().ToDictionary<(string name, nn.Module module), nn.Module, string>(c => c.module, c => c.name, ReferenceEqualityComparer.Instance);

    /// <summary>A tensor's values as float32, in row-major order.</summary>
    public static float[] Floats(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
    }
}
