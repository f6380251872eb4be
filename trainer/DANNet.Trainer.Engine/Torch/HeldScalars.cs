using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Torch;

/// <summary>
/// Process-lifetime scalars and the tensor operations TorchSharp 0.107 would otherwise give an
/// implicit, finalizer-owned scalar: its <c>a + b</c> is <c>add(b, alpha: 1)</c> with the
/// <c>1</c> converted implicitly on every call, and <c>add_(s)</c> does the same. See
/// <see cref="ScalarScope"/> for why that matters.
/// </summary>
public static class HeldScalars
{
    /// <summary>The integer 1 (the alpha of a plain addition; works for float and integer tensors).</summary>
    public static Scalar One { get; } = 1L.ToScalar();

    /// <summary><c>a + b</c> with a held alpha.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><c>a + s</c> with a held alpha.</summary>
    public static Tensor Plus(this Tensor a, Scalar s) => a.add(s, One);

    /// <summary>In-place <c>a += s</c> with a held alpha.</summary>
    public static Tensor PlusInPlace(this Tensor a, Scalar s) => a.add_(s, One);
}
