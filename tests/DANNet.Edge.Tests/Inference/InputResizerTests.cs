using DANNet.Model;
using DANNet.Edge.Contracts;
using OpenCvSharp;

namespace DANNet.Edge.Tests.Inference;

/// <summary>The runtime's frame → model-input resize: each method writes what its reference computes, into the fixed buffer, without allocating per frame.</summary>
public sealed class InputResizerTests
{
    [Theory]
    [InlineData(InputResize.Antialiased)]
    [InlineData(InputResize.Area)]
    [InlineData(InputResize.Linear)]
    public void Each_method_writes_its_reference_result_into_the_destination(InputResize method)
    {
        using var frame = new Mat(90, 160, MatType.CV_8UC3);
        Cv2.Randu(frame, new Scalar(0, 0, 0), new Scalar(256, 256, 256));
        using var destination = new Mat(34, 60, MatType.CV_8UC3, Scalar.All(7));
        using var resizer = new InputResizer(destination, method);
        using var input = InputArray.Create(frame);
        resizer.Resize(frame, input);

        using var expected = new Mat(34, 60, MatType.CV_8UC3);
        if (method == InputResize.Antialiased)
        {
            frame.GetArray(out Vec3b[] src);
            var bytes = src.SelectMany(v => new[] { v.Item0, v.Item1, v.Item2 }).ToArray();
            var output = new byte[60 * 34 * 3];
            new AntialiasedResize(160, 90, 60, 34).Resize(bytes, 160 * 3, output, 60 * 3);
            expected.SetArray(Enumerable.Range(0, 60 * 34).Select(i => new Vec3b(output[3 * i], output[3 * i + 1], output[3 * i + 2])).ToArray());
        }
        else Cv2.Resize(frame, expected, new Size(60, 34), 0, 0, method == InputResize.Area ? InterpolationFlags.Area : InterpolationFlags.Linear);
        Assert.Equal(0, Cv2.Norm(destination, expected, NormTypes.INF));

        // A frame of another size is planned again; same-size frames after the first allocate nothing.
        using var other = new Mat(68, 120, MatType.CV_8UC3, Scalar.All(200));
        using var otherInput = InputArray.Create(other);
        resizer.Resize(other, otherInput);
        Assert.Equal(200, destination.Get<Vec3b>(10, 10).Item0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) resizer.Resize(other, otherInput);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
