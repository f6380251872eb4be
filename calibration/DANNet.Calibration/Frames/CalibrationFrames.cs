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

        if (Directory.Exists(source))
        {
            // Colour images only (label maps are single-channel); then spread the pick over the set.
            var colour = ImageSamples.ColourImages(source, out int images, unreadable);
            if (images == 0) throw new ArgumentException($"--data '{source}': the folder holds no .png or .jpg images.");
            foreach (int i in ImageSamples.Spread(colour.Count, count))
            {
                using var image = Cv2.ImRead(colour[i], ImreadModes.Color);
                if (image.Empty()) unreadable.Add(colour[i]);
                else Keep(image);
            }
        }
        else if (File.Exists(source) && ImageInputs.IsVideo(source))
        {
            using var capture = new VideoCapture(source);
            if (!capture.IsOpened()) throw new InvalidDataException($"--data '{source}': OpenCV cannot open this video.");
            int length = (int)capture.Get(VideoCaptureProperties.FrameCount);
            if (length <= 0) throw new InvalidDataException($"--data '{source}': the video reports no frames.");
            using var frame = new Mat();
            var wanted = ImageSamples.Spread(length, count).ToHashSet();
            for (int i = 0; i < length && frames.Count + unreadable.Count < wanted.Count; i++)
            {
                bool ok = capture.Read(frame) && !frame.Empty();
                if (!wanted.Contains(i)) { if (!ok && i >= length - 1) break; continue; }
                if (ok && frame.Type() == MatType.CV_8UC3) Keep(frame);
                else unreadable.Add($"{source} frame {i}");
            }
        }
        else if (File.Exists(source))
        {
            using var image = Cv2.ImRead(source, ImreadModes.Color);
            if (image.Empty()) unreadable.Add(source);
            else Keep(image);
        }
        else throw new FileNotFoundException($"--data '{source}' does not exist.", source);
        return new FrameSet(frames, unreadable);
    }
}
