using DANNet.Model.IO;
using OpenCvSharp;

namespace DANNet.Trainer.IO;

/// <summary>
/// Picking sample images out of a folder tree or a video, for tools that look at a few real frames
/// (the pretrained-import check, INT8 calibration): colour images only, so that the label PNGs of a
/// Cityscapes or Dark Zurich root are skipped, and picks spread evenly over what there is.
/// </summary>
public static class ImageSamples
{
    /// <summary>
    /// The colour (three- or four-channel) image files (<see cref="ImageFiles.ImageExtensions"/>) under <paramref name="folder"/>, sorted;
    /// <paramref name="images"/> counts every image file found, and files OpenCV cannot decode go to <paramref name="unreadable"/>.
    /// </summary>
    public static List<string> ColourImages(string folder, out int images, ICollection<string>? unreadable = null)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(ImageFiles.IsImage)
            .Order(StringComparer.Ordinal).ToList();
        images = files.Count;
        var colour = new List<string>();
        foreach (var f in files)
        {
            using var probe = Cv2.ImRead(f, ImreadModes.Unchanged);
            if (probe.Empty()) unreadable?.Add(f);
            else if (probe.Channels() >= 3) colour.Add(f);
        }
        return colour;
    }

    /// <summary>
    /// Up to <paramref name="count"/> 8-bit BGR images spread evenly over <paramref name="source"/> — a folder searched recursively for colour
    /// images, a video (read front to back, no seeking: exact on every codec) or one image file — each named (relative path, or
    /// <c>video#frame</c>). A file or frame that does not decode goes to <paramref name="unreadable"/> and is skipped. The caller disposes
    /// each image. <paramref name="option"/> names the command-line option in errors.
    /// </summary>
    public static IEnumerable<(string Name, Mat Image)> Pick(string source, int count, string option, Action<string> unreadable)
    {
        if (Directory.Exists(source))
        {
            var skipped = new List<string>();
            var colour = ColourImages(source, out int images, skipped);
            skipped.ForEach(unreadable);
            if (images == 0) throw new ArgumentException($"{option} '{source}': the folder holds no images ({string.Join(", ", ImageFiles.ImageExtensions)}).");
            if (colour.Count == 0) throw new ArgumentException($"{option} '{source}': the folder holds no colour images.");
            foreach (int i in Spread(colour.Count, count))
            {
                var image = Cv2.ImRead(colour[i], ImreadModes.Color);
                if (image.Empty())
                {
                    image.Dispose();
                    unreadable(colour[i]);
                }
                else yield return (Path.GetRelativePath(source, colour[i]), image);
            }
        }
        else if (File.Exists(source) && ImageFiles.IsVideo(source))
        {
            using var capture = new VideoCapture(source);
            if (!capture.IsOpened()) throw new InvalidDataException($"{option} '{source}': OpenCV cannot open this video.");
            int length = (int)capture.Get(VideoCaptureProperties.FrameCount);
            if (length <= 0) throw new InvalidDataException($"{option} '{source}': the video reports no frames.");
            var wanted = Spread(length, count).ToHashSet();
            int taken = 0;
            for (int i = 0; i < length && taken < wanted.Count; i++)
            {
                var frame = new Mat();
                bool ok = capture.Read(frame) && !frame.Empty();
                if (!wanted.Contains(i))
                {
                    frame.Dispose();
                    if (!ok && i >= length - 1) break;
                    continue;
                }
                taken++;
                if (ok && frame.Type() == MatType.CV_8UC3) yield return ($"{Path.GetFileName(source)}#{i}", frame);
                else
                {
                    frame.Dispose();
                    unreadable($"{source} frame {i}");
                }
            }
        }
        else if (File.Exists(source))
        {
            var image = Cv2.ImRead(source, ImreadModes.Color);
            if (image.Empty())
            {
                image.Dispose();
                unreadable(source);
            }
            else yield return (Path.GetFileName(source), image);
        }
        else throw new FileNotFoundException($"{option} '{source}' does not exist.", source);
    }

    /// <summary>Up to <paramref name="count"/> indices spread evenly over [0, <paramref name="length"/>).</summary>
    public static IEnumerable<int> Spread(int length, int count)
    {
        int n = Math.Min(count, length);
        return Enumerable.Range(0, n).Select(i => (int)((long)i * length / n)).Distinct();
    }
}
