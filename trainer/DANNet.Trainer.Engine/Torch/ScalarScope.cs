using TorchSharp;

namespace DANNet.Trainer.Torch;

/// <summary>
/// Numbers for libtorch that live as long as the code that uses them. A TorchSharp
/// <see cref="Scalar"/> made by an implicit conversion (<c>t * 0.5</c>, <c>add_(x, alpha: lr)</c>)
/// is unreachable as soon as its handle is handed to native code: a garbage collection on any
/// thread during the call lets the finalizer free it while libtorch still reads it, and libtorch
/// then reads garbage (NaN losses, "Unknown scalar type"). Every scalar made here is held until
/// the scope is disposed, after the calls that read it have returned. The project's rule
/// (docs/conventions.md): constants are <see cref="HeldScalars"/> fields, run-time numbers come
/// from a <c>using var s = new ScalarScope()</c>; <c>NativeLifetimeTests</c> reads the IL and
/// fails on an implicit conversion anywhere in the trainer.
/// </summary>
public sealed class ScalarScope : IDisposable
{
    private readonly List<Scalar> _held = [];

    /// <summary>A floating-point scalar, held until <see cref="Dispose"/>.</summary>
    public Scalar this[double value]
    {
        get
        {
            var scalar = value.ToScalar();
            _held.Add(scalar);
            return scalar;
        }
    }

    /// <summary>An integer scalar (labels, counts), held until <see cref="Dispose"/>.</summary>
    public Scalar this[long value]
    {
        get
        {
            var scalar = value.ToScalar();
            _held.Add(scalar);
            return scalar;
        }
    }

    public void Dispose()
    {
        foreach (var s in _held) s.Dispose();
        _held.Clear();
    }
}
