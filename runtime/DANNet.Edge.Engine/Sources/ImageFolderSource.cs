using DANNet.Model.IO;
using System.Diagnostics;
using DANNet.Edge.Configuration;
using OpenCvSharp;

namespace DANNet.Edge.Sources;

/// <summary>A folder of images (.png, .jpg, .jpeg, .bmp) in name order, optionally looping and paced at Source:Fps.</summary>
public sealed class ImageFolderSource(string uri, string folder, SourceOptions options) : IFrameSource
{
    private readonly Stopwatch _pace = new();
    private string[] _files = [];
    private int _next;
    private long _served;

    public string Description => $"{uri} (folder, {_files.Length} images)";

    public bool IsLive => false;

    public void Open()
    {
        if (!Directory.Exists(folder)) throw new FrameSourceException($"Source '{uri}': folder '{folder}' does not exist.");
        _files = Directory.EnumerateFiles(folder).Where(ImageFiles.IsImage).Order(StringComparer.Ordinal).ToArray();
        if (_files.Length == 0) throw new FrameSourceException($"Source '{uri}': folder '{folder}' has no .png/.jpg/.jpeg/.bmp images.");
        _next = 0;
        _served = 0;
        _pace.Restart();
    }

    /// <summary>Images skipped because they could not be decoded or were larger than Source:MaxWidth x MaxHeight.</summary>
    public long Skipped { get; private set; }

    /// <summary>
    /// The next image. One that cannot be decoded, or whose header says it is larger than Source:MaxWidth x MaxHeight
    /// (checked before decoding), is skipped and counted, as a damaged video frame is: the frame after it carries the
    /// problem. A folder with nothing readable left ends (or, looping, faults naming the last file tried).
    /// </summary>
    public FrameReadStatus Read(Mat frame, out string? problem)
    {
        problem = null;
        var skipped = new List<string>();
        for (int tries = 0; tries <= _files.Length; tries++)
        {
            if (_next >= _files.Length)
            {
                if (!options.Loop || _files.Length == 0)
                {
                    problem = Skipping(skipped);
                    return FrameReadStatus.EndOfStream;
                }
                _next = 0;
            }
            string file = _files[_next++];
            if (ImageHeaders.Size(file) is { } size && (size.Width > options.MaxWidth || size.Height > options.MaxHeight))
            {
                skipped.Add($"'{Path.GetFileName(file)}' is {size.Width}x{size.Height}, over Source:MaxWidth x MaxHeight ({options.MaxWidth}x{options.MaxHeight})");
                continue;
            }
            using var image = Cv2.ImRead(file, ImreadModes.Color);
            if (image.Empty())
            {
                skipped.Add($"'{Path.GetFileName(file)}' is not a readable image");
                continue;
            }
            Skipped += skipped.Count;
            problem = Skipping(skipped);
            image.CopyTo(frame);
            FrameName = Path.GetFileName(file);
            return Served();
        }
        problem = $"no image of '{folder}' can be read ({Skipping(skipped)})";
        return FrameReadStatus.Fault;
    }

    private static string? Skipping(List<string> skipped) =>
        skipped.Count == 0 ? null : $"skipped {skipped.Count} image(s): {string.Join("; ", skipped.Take(3))}{(skipped.Count > 3 ? "; …" : "")}";

    private FrameReadStatus Served()
    {
        _served++;
        if (options.Realtime && options.Fps > 0)
        {
            var due = TimeSpan.FromSeconds(_served / options.Fps) - _pace.Elapsed;
            if (due > TimeSpan.Zero) Thread.Sleep(due);
        }
        return FrameReadStatus.Frame;
    }

    /// <summary>The file name of the image the last <see cref="Read"/> gave.</summary>
    public string? FrameName { get; private set; }

    public void Dispose() { }
}
