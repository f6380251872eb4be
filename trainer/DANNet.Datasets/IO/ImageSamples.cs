using OpenCvSharp;

namespace DANNet.Trainer.IO;

/// <summary>
/// Picking sample images out of a folder tree or a video, for tools that look at a few real frames
/// (the pretrained-import check, INT8 calibration): colour images only, so that the label PNGs of a
/// Cityscapes or Dark Zurich root are skipped, and picks spread evenly over what there is.
/// </summary>
public static class ImageSamples
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>
    /// The colour (three- or four-channel) .png/.jpg/.jpeg files under <paramref name="folder"/>, sorted;
    /// <paramref name="images"/> counts every image file found, and files OpenCV cannot decode go to <paramref name="unreadable"/>.
    /// </summary>
    public static List<string> ColourImages(string folder, out int images, ICollection<string>? unreadable = null)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
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

    /// <summary>Up to <paramref name="count"/> indices spread evenly over [0, <paramref name="length"/>).</summary>
    public static IEnumerable<int> Spread(int length, int count)
    {
        int n = Math.Min(count, length);
        return Enumerable.Range(0, n).Select(i => (int)((long)i * length / n)).Distinct();
    }
}
