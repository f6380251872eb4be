using OpenCvSharp;
using OpenCvSharp.Internal;

namespace DANNet.Edge.Inference;

/// <summary>
/// Resizes camera frames into a fixed destination (the model's pinned input buffer) without a
/// managed allocation per frame. OpenCvSharp's <c>Cv2.Resize</c> wraps its destination in a new
/// <see cref="OutputArray"/> on every call and cannot reuse one; here the native output wrapper is
/// made once and OpenCV's resize is called through OpenCvSharp's own native entry point.
/// </summary>
internal sealed class InputResizer : IDisposable
{
    private readonly Mat _destination;
    private readonly Size _size;
    private IntPtr _output;

    public InputResizer(Mat destination)
    {
        _destination = destination;
        _size = destination.Size();
        Check(NativeMethods.core_OutputArray_new_byMat(destination.CvPtr, out _output), "creating the output wrapper");
    }

    /// <summary>Bilinear resize of <paramref name="source"/> (any size, 8-bit BGR) into the destination; a copy when sizes match.</summary>
    public void Resize(InputArray source)
    {
        ObjectDisposedException.ThrowIf(_output == IntPtr.Zero, this);
        Check(NativeMethods.imgproc_resize(source.CvPtr, _output, _size, 0, 0, (int)InterpolationFlags.Linear), "resizing a frame");
        GC.KeepAlive(source);
        GC.KeepAlive(_destination);
    }

    private static void Check(ExceptionStatus status, string what)
    {
        if (status != ExceptionStatus.NotOccurred) throw new OpenCvSharpException($"OpenCV failed while {what} ({status}).");
    }

    public void Dispose()
    {
        if (_output == IntPtr.Zero) return;
        NativeMethods.core_OutputArray_delete(_output);
        _output = IntPtr.Zero;
    }
}
