using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DANNet.Trainer.Torch;

/// <summary>A convolution whose float32 result on this machine is outside the rounding bound of the exact one.</summary>
/// <param name="Layer">The net and module path, e.g. <c>light.model.24</c>.</param>
/// <param name="Shape">Channels, kernel and stride, e.g. <c>64→3 7x7</c>.</param>
/// <param name="Quantity">output, input gradient or weight gradient.</param>
/// <param name="RelativeError">Largest absolute error over the largest absolute exact value.</param>
/// <param name="OverBound">Largest error over its element's bound (above 1 is a fault).</param>
public sealed record ConvolutionFault(string Layer, string Shape, string Quantity, double RelativeError, double OverBound)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Layer} ({Shape}): {Quantity} {RelativeError:P0} off the exact value, {OverBound:G3}x the rounding bound");
}

/// <summary>
/// Runs every distinct convolution of the nets a run trains — forward, input gradient and weight gradient, float32 on the
/// training device, as the layer computes it (<see cref="PadChannels"/>) — on seeded random data and compares each element with the exact (float64) value against the worst-case
/// float32 rounding bound of that element: n·u·Σ|terms| for a sum of n products (u = 2⁻²⁴; any summation order stays inside it),
/// doubled. A kernel that is merely rounded differently never fails it; a wrong one does. Found on an AMD EPYC family 26 VM:
/// libtorch 2.10's oneDNN convolutions return input gradients 30–90 % off (NaN with two threads) when a convolution has fewer
/// than 16 output channels — LightNet's last layer and the discriminators' — so DANNet's relighting trained on garbage.
/// </summary>
public static class ConvolutionCheck
{
    private const double UnitRoundoff = 1.0 / (1 << 24);
    private const double Margin = 2;

    /// <summary>The faults of every distinct convolution in <paramref name="nets"/> (named by net), on <paramref name="device"/>.</summary>
    public static IReadOnlyList<ConvolutionFault> Run(IEnumerable<(string Net, nn.Module Module)> nets, Device device, long seed = 0)
    {
        var faults = new List<ConvolutionFault>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (layer, c) in Convolutions(nets))
        {
            string shape = Describe(c);
            // Layers of one shape share kernels, but a repaired layer runs other ones than an unrepaired layer of its shape.
            if (!seen.Add(shape + (s_padded.TryGetValue(c, out _) ? " padded" : ""))) continue;
            faults.AddRange(CheckOne(layer, shape, c, device, seed));
        }
        return faults;
    }

    private static IEnumerable<(string Layer, Convolution Module)> Convolutions(IEnumerable<(string Net, nn.Module Module)> nets) =>
        from n in nets
        from m in n.Module.named_modules()
        where m.module is Convolution { padding: not null, padding_type: null }
        select ($"{n.Net}.{m.name}", (Convolution)m.module);

    // The layers PadChannels has repaired (their forward hook computes PaddedConvolution instead).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Convolution, object> s_padded = [];

    private static bool Repairable(Convolution c) => !c.transposed && c.groups == 1 && c.kernel_size.Length == 2;

    private static long UpTo16(long channels) => (channels + 15) / 16 * 16;

    /// <summary>
    /// Makes <paramref name="c"/> compute <see cref="PaddedConvolution"/>: a forward hook replaces its output (and so the graph its
    /// gradients flow back through). The layer's parameters, checkpoints and ONNX export are unchanged; the padding adds zeros only.
    /// </summary>
    public static void PadChannels(Convolution c)
    {
        if (!Repairable(c)) throw new ArgumentException($"Only ungrouped 2-D convolutions can have their channels padded, not {Describe(c)}.");
        if (s_padded.TryGetValue(c, out _)) return;
        s_padded.Add(c, true);
        c.register_forward_hook((_, input, _) => PaddedConvolution(c, input, c.weight!, c.bias));
    }

    /// <summary>
    /// <paramref name="c"/>'s convolution with input and output channels zero-padded to multiples of 16 and the output cut back:
    /// the same sums (the added terms are zeros), on the oneDNN kernels that are right where the odd-channel ones are not.
    /// </summary>
    internal static Tensor PaddedConvolution(Convolution c, Tensor input, Tensor weight, Tensor? bias)
    {
        long cin = c.in_channels, cout = c.out_channels, inUp = UpTo16(cin), outUp = UpTo16(cout);
        var x = inUp == cin ? input : nn.functional.pad(input, [0, 0, 0, 0, 0, inUp - cin]);
        var w = inUp == cin && outUp == cout ? weight : nn.functional.pad(weight, [0, 0, 0, 0, 0, inUp - cin, 0, outUp - cout]);
        var b = bias is null || outUp == cout ? bias : nn.functional.pad(bias, [0, outUp - cout]);
        var y = nn.functional.conv2d(x, w, b, c.stride, c.padding!, c.dilation, c.groups);
        return outUp == cout ? y : y.narrow(1, 0, cout);
    }

    /// <summary>
    /// On the CPU: when oneDNN computes any of the nets' convolutions wrongly, first repairs those layers by padding their channels
    /// (<see cref="PadChannels"/>; unless <paramref name="repairLayers"/> is false) and checks again; if that is not enough, switches
    /// oneDNN off for the process (<see cref="OneDnn"/>) and checks again. Returns the note to show (null when nothing was wrong).
    /// Throws when the convolutions are wrong without oneDNN too. Other devices are not checked (cuDNN's TF32 rounding is a
    /// documented precision choice, not a fault this bound could tell apart).
    /// </summary>
    public static string? EnsureCorrect(IEnumerable<(string Net, nn.Module Module)> nets, Device device, bool repairLayers = true)
    {
        if (device.type != DeviceType.CPU) return null;
        Nnpack.SwitchOffWhereUnavailable();
        var list = nets.ToList();
        var faults = Run(list, device);
        if (faults.Count == 0) return null;
        bool wasEnabled = OneDnn.Enabled;
        if (wasEnabled && repairLayers)
        {
            var shapes = faults.Select(f => f.Shape).ToHashSet(StringComparer.Ordinal);
            var layers = Convolutions(list).Where(c => shapes.Contains(Describe(c.Module))).ToList();
            if (layers.All(c => Repairable(c.Module)))
            {
                foreach (var (_, c) in layers) PadChannels(c);
                if (Run(list, device).Count == 0)
                    return $"libtorch's oneDNN convolutions are wrong on this CPU — {faults[0]}{More(faults)}; " +
                        (layers.Count == 1 ? "that layer runs with its" : $"those {layers.Count} layers run with their") +
                        " channels zero-padded to multiples of 16, which oneDNN computes right (checked the same way)";
            }
        }
        if (wasEnabled)
        {
            OneDnn.Enabled = false;
            var without = Run(list, device);
            if (without.Count == 0)
                return $"libtorch's oneDNN convolutions are wrong on this CPU — {faults[0]}{More(faults)}; this process uses libtorch's own " +
                    "convolution kernels instead: correct, several times slower (docs/measured-platform.md)";
            faults = [.. without];
        }
        throw new ConvolutionFaultException($"libtorch's convolutions are wrong on this CPU even without oneDNN — {faults[0]}{More(faults)}: " +
            "training here would learn from wrong gradients, and predictions would come from wrong sums; use another machine or a GPU (--device cuda).");
    }

    private static string More(IReadOnlyList<ConvolutionFault> faults) => faults.Count > 1 ? $", and {faults.Count - 1} more" : "";

    private static string Describe(Convolution c) => string.Create(CultureInfo.InvariantCulture,
        $"{c.in_channels}→{c.out_channels} {string.Join('x', c.kernel_size)}{(c.transposed ? " transposed" : "")}" +
        $" stride {string.Join('x', c.stride)} pad {string.Join('x', c.padding!)} dilation {string.Join('x', c.dilation)} groups {c.groups}");

    private static IEnumerable<ConvolutionFault> CheckOne(string layer, string shape, Convolution c, Device device, long seed)
    {
        using var scope = NewDisposeScope();
        using var s = new ScalarScope();
        long kh = c.kernel_size[0], kw = c.kernel_size[1];
        // Big enough for the kernel to slide a few steps whatever its stride and dilation; small enough to stay quick in float64.
        long side = Math.Max(16, (kh - 1) * c.dilation[0] + 1 + 4 * c.stride[0] - 2 * c.padding![0]);
        using var gen = new Generator((ulong)seed, device: CPU);
        var x = randn([2, c.in_channels, side, side], generator: gen, device: CPU); // explicit: the default device may be another
        // float32, what training runs, whatever dtype the net was moved to.
        var w = c.weight!.detach().to(CPU).to(float32).clone();
        var b = c.bias?.detach().to(CPU).to(float32).clone();
        bool padded = s_padded.TryGetValue(c, out _);
        Tensor Apply(Tensor input, Tensor weight, Tensor? bias) => c.transposed
            ? nn.functional.conv_transpose2d(input, weight, bias, c.stride, c.padding!, c.output_padding, c.dilation, c.groups)
            : padded && weight.dtype == float32 ? PaddedConvolution(c, input, weight, bias)
            : nn.functional.conv2d(input, weight, bias, c.stride, c.padding!, c.dilation, c.groups);
        var shapeOut = Apply(x, w, b).shape;
        var g = randn(shapeOut, generator: gen, device: CPU);

        // float32 on the device
        var (y32, dx32, dw32) = Pass(x.to(device), w.to(device), b?.to(device), g.to(device), Apply);
        // exact (float64 on the CPU: float32 inputs are exact in float64, and its rounding is 2^-29 of float32's)
        var (y, dx, dw) = Pass(x.to(float64), w.to(float64), b?.to(float64), g.to(float64), Apply);
        // Σ|terms| of every element: the same three quantities on absolute values
        var (ya, dxa, dwa) = Pass(x.to(float64).abs(), w.to(float64).abs(), b?.to(float64).abs(), g.to(float64).abs(), Apply);

        long perGroupIn = c.in_channels / c.groups, perGroupOut = c.out_channels / c.groups, taps = kh * kw;
        long inArea = x.shape[2] * x.shape[3], outArea = shapeOut[2] * shapeOut[3];
        // Terms per element (upper bounds): an output sums the inputs under the kernel (+ bias); an input gradient the output
        // gradients it reached; a weight gradient one product per batch item and position.
        long nForward = (c.transposed ? perGroupOut : perGroupIn) * taps + 1;
        long nInput = (c.transposed ? perGroupIn : perGroupOut) * taps;
        long nWeight = 2 * Math.Max(inArea, outArea);
        var measured = new (string Quantity, (double Relative, double OverBound) M)[]
        {
            ("output", Measure(y32, y, ya, nForward)),
            ("input gradient", Measure(dx32, dx, dxa, nInput)),
            ("weight gradient", Measure(dw32, dw, dwa, nWeight)),
        };
        return measured.Where(r => r.M.OverBound > 1) // Measure reports a NaN as infinitely over
            .Select(r => new ConvolutionFault(layer, shape, r.Quantity, r.M.Relative, r.M.OverBound)).ToList();
    }

    /// <summary>
    /// How far a float32 result <paramref name="got"/> is from <paramref name="exact"/> (float64): the largest absolute error over
    /// the largest exact magnitude, and the largest error over its element's bound — twice n·u/(1−n·u) times that element's Σ|terms|
    /// (<paramref name="absTerms"/>) for sums of at most <paramref name="n"/> products. A NaN anywhere is infinitely over.
    /// </summary>
    internal static (double Relative, double OverBound) Measure(Tensor got, Tensor exact, Tensor absTerms, long n)
    {
        using var scope = NewDisposeScope();
        using var s = new ScalarScope();
        double gamma = Margin * n * UnitRoundoff / (1 - n * UnitRoundoff);
        var error = got.to(CPU).to(float64).sub(exact).abs();
        var bound = absTerms.mul(s[gamma]).Plus(s[double.Epsilon]);
        double over = error.div(bound).max().item<double>();
        double relative = error.max().item<double>() / Math.Max(exact.abs().max().item<double>(), double.Epsilon);
        return (double.IsNaN(relative) ? double.PositiveInfinity : relative, double.IsNaN(over) ? double.PositiveInfinity : over);
    }

    private static (Tensor Output, Tensor InputGradient, Tensor WeightGradient) Pass(Tensor x, Tensor w, Tensor? b, Tensor g,
        Func<Tensor, Tensor, Tensor?, Tensor> apply)
    {
        var xi = x.detach().requires_grad_(true);
        var wi = w.detach().requires_grad_(true);
        var y = apply(xi, wi, b?.detach());
        y.mul(g).sum().backward();
        return (y.detach(), xi.grad!.detach(), wi.grad!.detach());
    }
}

/// <summary>The CPU's convolutions are wrong even with oneDNN off: training would learn from wrong gradients.</summary>
public sealed class ConvolutionFaultException(string message) : DANNet.Edge.Contracts.FixableException(message);
