using DANNet.Edge.Contracts;
using OpenCvSharp;
using OpenCvSharp.Internal;

namespace DANNet.Model;

/// <summary>
/// Resizes camera frames into a fixed destination (the model's pinned input buffer) without a
/// managed allocation per frame. OpenCvSharp's <c>Cv2.Resize</c> wraps its destination in a new
/// <see cref="OutputArray"/> on every call and cannot reuse one; here the native output wrapper is
/// made once and OpenCV's resize is called through OpenCvSharp's own native entry point. The
/// antialiased resize keeps one plan per source size (made again only when the size changes).
/// </summary>
public sealed class InputResizer : IDisposable
{
    private readonly Mat _destination;
    private readonly Size _size;
    private readonly InputResize _method;
    private IntPtr _output;
    private AntialiasedResize? _plan;

    public InputResizer(Mat destination, InputResize method)
    {
        _destination = destination;
        _size = destination.Size();
        _method = method;
        Check(NativeMethods.core_OutputArray_new_byMat(destination.CvPtr, out _output), "creating the output wrapper");
    }

    /// <summary>Resizes <paramref name="image"/> (any size, 8-bit BGR; <paramref name="input"/> wraps it) into the destination; a copy when sizes match.</summary>
    public unsafe void Resize(Mat image, InputArray input)
    {
        ObjectDisposedException.ThrowIf(_output == IntPtr.Zero, this);
        if (_method == InputResize.Antialiased && image.Size() != _size)
        {
            if (_plan is null || _plan.InWidth != image.Width || _plan.InHeight != image.Height)
                _plan = new AntialiasedResize(image.Width, image.Height, _size.Width, _size.Height);
            int stride = (int)image.Step(), outStride = (int)_destination.Step();
            _plan.Resize(new ReadOnlySpan<byte>((void*)image.DataPointer, stride * (image.Height - 1) + image.Width * 3), stride,
                new Span<byte>((void*)_destination.DataPointer, outStride * (_size.Height - 1) + _size.Width * 3), outStride);
        }
        else
        {
            var flags = _method == InputResize.Area ? InterpolationFlags.Area : InterpolationFlags.Linear;
            Check(NativeMethods.imgproc_resize(input.CvPtr, _output, _size, 0, 0, (int)flags), "resizing a frame");
        }
        GC.KeepAlive(image);
        GC.KeepAlive(input);
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
