using System.Diagnostics;
using DANNet.Edge.Configuration;
using OpenCvSharp;

namespace DANNet.Edge.Sources;

/// <summary>A folder of images (.png, .jpg, .jpeg, .bmp) in name order, optionally looping and paced at Source:Fps.</summary>
internal sealed class ImageFolderSource(string uri, string folder, SourceOptions options) : IFrameSource
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];
    private readonly Stopwatch _pace = new();
    private string[] _files = [];
    private int _next;
    private long _served;

    public string Description => $"{uri} (folder, {_files.Length} images)";

    public bool IsLive => false;

    public void Open()
    {
        if (!Directory.Exists(folder)) throw new FrameSourceException($"Source '{uri}': folder '{folder}' does not exist.");
        _files = Directory.EnumerateFiles(folder).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal).ToArray();
        if (_files.Length == 0) throw new FrameSourceException($"Source '{uri}': folder '{folder}' has no .png/.jpg/.jpeg/.bmp images.");
        _next = 0;
        _served = 0;
        _pace.Restart();
    }

    public FrameReadStatus Read(Mat frame, out string? problem)
    {
        problem = null;
        if (_next >= _files.Length)
        {
            if (!options.Loop || _files.Length == 0) return FrameReadStatus.EndOfStream;
            _next = 0;
        }
        string file = _files[_next++];
        using var image = Cv2.ImRead(file, ImreadModes.Color);
        if (image.Empty())
        {
            problem = $"'{file}' is not a readable image";
            return FrameReadStatus.Fault;
        }
        image.CopyTo(frame);
        _served++;
        if (options.Realtime && options.Fps > 0)
        {
            var due = TimeSpan.FromSeconds(_served / options.Fps) - _pace.Elapsed;
            if (due > TimeSpan.Zero) Thread.Sleep(due);
        }
        return FrameReadStatus.Frame;
    }

    public void Dispose() { }
}
