using OpenCvSharp;

namespace DANNet.Model.IO;

/// <summary>Reading and writing images with errors that name the file.</summary>
public static class ImageFiles
{
    private static readonly ImageEncodingParam[] PngParams = [new(ImwriteFlags.PngCompression, 3)];

    /// <summary>The still-image file extensions every command and frame source reads (OpenCV's decoders).</summary>
    public static IReadOnlyList<string> ImageExtensions { get; } = [".png", ".jpg", ".jpeg", ".bmp"];

    /// <summary>The video file extensions read frame by frame (OpenCV's FFmpeg back-end).</summary>
    public static IReadOnlyList<string> VideoExtensions { get; } = [".avi", ".mp4", ".mkv", ".mov", ".webm"];

    /// <summary>Whether <paramref name="path"/> names a still image by its extension.</summary>
    public static bool IsImage(string path) => ImageExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>Whether <paramref name="path"/> names a video by its extension.</summary>
    public static bool IsVideo(string path) => VideoExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>Encodes <paramref name="image"/> as PNG and writes it atomically.</summary>
    public static void WritePng(string path, Mat image)
    {
        Cv2.ImEncode(".png", image, out byte[] bytes, PngParams);
        if (bytes.Length == 0)
            throw new IOException($"Could not encode a PNG for '{path}' (image {image.Width}x{image.Height}, type {image.Type()}).");
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>Reads a colour image as 8-bit BGR.</summary>
    public static Mat ReadColor(string path) => Read(path, ImreadModes.Color, "colour image");

    /// <summary>Reads a single-channel 8-bit label image exactly as stored.</summary>
    public static Mat ReadLabel(string path)
    {
        var m = Read(path, ImreadModes.Unchanged, "label image");
        if (m.Type() != MatType.CV_8UC1)
        {
            var type = m.Type();
            m.Dispose();
            throw new InvalidDataException($"Label image '{path}' has type {type}; a label image must be single-channel 8-bit (grey PNG). Regenerate " +
                $"it with the Cityscapes scripts or 'dannet-train synth'.");
        }
        return m;
    }

    private static Mat Read(string path, ImreadModes mode, string what)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The {what} '{path}' does not exist.", path);
        var m = Cv2.ImRead(path, mode);
        if (m.Empty())
        {
            m.Dispose();
            throw new InvalidDataException($"The {what} '{path}' could not be decoded: it is not a readable PNG/JPEG or it is truncated. Replace or regenerate the file.");
        }
        return m;
    }
}
