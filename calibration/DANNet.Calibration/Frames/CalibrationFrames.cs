using DANNet.Model;
using DANNet.Edge.Contracts;
using DANNet.Trainer.IO;
using OpenCvSharp;

namespace DANNet.Calibration.Frames;

/// <summary>What reading the calibration input gave: the frames as the model takes them, and what could not be read.</summary>
public sealed record FrameSet(IReadOnlyList<byte[]> Frames, IReadOnlyList<string> Unreadable);

/// <summary>
/// Calibration frames, fed exactly as the runtime feeds camera frames: decoded by OpenCV as 8-bit
/// BGR and resized into the model's input size by the runtime's own resizer (<see cref="InputResizer"/>,
/// same method as <c>Model:Resize</c>). Sources: a video (frames spread over it), a folder searched
/// recursively for colour images (a Cityscapes or Dark Zurich root works: label PNGs are one channel
/// and skipped), or single image files. Unreadable frames are counted and skipped.
/// </summary>
public static class CalibrationFrames
{

    public static FrameSet Read(string source, int width, int height, int count, InputResize resize)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), "At least one frame.");
        var frames = new List<byte[]>();
        var unreadable = new List<string>();
        using var destination = new Mat(height, width, MatType.CV_8UC3);
        using var resizer = new InputResizer(destination, resize);
        void Keep(Mat image)
        {
            using var input = InputArray.Create(image);
            resizer.Resize(image, input);
            var bytes = new byte[height * width * 3];
            System.Runtime.InteropServices.Marshal.Copy(destination.Data, bytes, 0, bytes.Length);
            frames.Add(bytes);
        }

        foreach (var (_, image) in ImageSamples.Pick(source, count, "--data", unreadable.Add))
            using (image)
                Keep(image);
        return new FrameSet(frames, unreadable);
    }
}
