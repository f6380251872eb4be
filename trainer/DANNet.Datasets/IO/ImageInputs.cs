using DANNet.Model.IO;
using OpenCvSharp;

namespace DANNet.Trainer.IO;

/// <summary>
/// The images a command segments, from what a user names: image files, folders (searched
/// recursively for colour images, so the label PNGs of a data-set tree are skipped) and
/// videos (every frame). Each image comes with a name unique within the inputs: its path relative
/// to the folder it was found in, without extension (<c>night/000012</c>); a video's frames are
/// <c>&lt;video name&gt;/000123</c> by frame index; a lone file is its name without extension.
/// </summary>
public static class ImageInputs
{
    /// <summary>
    /// Checks every input before any is read: a missing path, a folder with no colour image, or an
    /// unknown extension throws naming it. Returns the inputs in the order given.
    /// </summary>
    public static IReadOnlyList<string> Check(IEnumerable<string> inputs)
    {
        var list = inputs.Select(Path.GetFullPath).ToList();
        if (list.Count == 0) throw new ArgumentException("No inputs: give images, folders of images or videos.");
        foreach (var input in list)
        {
            if (Directory.Exists(input)) continue;
            if (!File.Exists(input)) throw new ArgumentException($"Input '{input}' is neither a file nor a folder.");
            if (!ImageFiles.IsVideo(input) && !ImageFiles.IsImage(input))
                throw new ArgumentException($"Input '{input}': '{Path.GetExtension(input)}' is neither an image ({string.Join(", ", ImageFiles.ImageExtensions)}) " +
                    $"nor a video ({string.Join(", ", ImageFiles.VideoExtensions)}).");
        }
        return list;
    }

    /// <summary>
    /// The images of <paramref name="inputs"/> in order, each decoded when it is reached (the caller
    /// disposes it). A folder without colour images, a video OpenCV cannot open or that yields no
    /// frame, and an image that does not decode throw naming the file.
    /// </summary>
    public static IEnumerable<(string Name, Mat Image)> Read(IEnumerable<string> inputs)
    {
        foreach (var input in Check(inputs))
        {
            if (Directory.Exists(input))
            {
                var colour = ImageSamples.ColourImages(input, out int images);
                if (colour.Count == 0)
                    throw new ArgumentException($"Input folder '{input}' holds no colour image ({images} image files, none with three channels).");
                foreach (var file in colour)
                {
                    string relative = Path.GetRelativePath(input, file);
                    yield return (Path.ChangeExtension(relative, null).Replace(Path.DirectorySeparatorChar, '/'), ImageFiles.ReadColor(file));
                }
            }
            else if (ImageFiles.IsVideo(input))
            {
                using var capture = new VideoCapture(input);
                if (!capture.IsOpened()) throw new InvalidDataException($"Input video '{input}': OpenCV cannot open it.");
                string stem = Path.GetFileNameWithoutExtension(input);
                int index = 0;
                while (true)
                {
                    var frame = new Mat();
                    if (!capture.Read(frame) || frame.Empty())
                    {
                        frame.Dispose();
                        break;
                    }
                    yield return ($"{stem}/{index:D6}", frame);
                    index++;
                }
                if (index == 0) throw new InvalidDataException($"Input video '{input}': no frame could be decoded.");
            }
            else yield return (Path.GetFileNameWithoutExtension(input), ImageFiles.ReadColor(input));
        }
    }
}
