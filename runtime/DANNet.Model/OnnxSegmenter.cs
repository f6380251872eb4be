using DANNet.Edge.Contracts;
using OpenCvSharp;

namespace DANNet.Model;

/// <summary>
/// An exported model (float or Q/DQ int8) segmenting still images, for evaluation: the runtime's
/// session on the CPU and the runtime's resizer (<see cref="ModelInput"/>), with the model's own
/// resize unless another is asked for (as the daemon feeds it: one resize wherever it runs); the graph's mask is
/// scaled to the image's size by nearest neighbour (the graph has already upsampled the logits to
/// its input size and taken the argmax, so the last step is a label resize, not a logit resize).
/// </summary>
public sealed class OnnxSegmenter : IDisposable
{
    private readonly SegmentationSession _session;
    private readonly ModelInput _input;
    private readonly Mat _mask;

    /// <param name="path">The exported model.</param>
    /// <param name="threads">CPU intra-op threads (0: ONNX Runtime's default).</param>
    /// <param name="resize">Image → model input resize; null: the model's own (<see cref="ModelInfo.Resize"/>).</param>
    public OnnxSegmenter(string path, int threads = 0, InputResize? resize = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model '{path}' does not exist.", path);
        _session = SegmentationSession.OpenCpu(path, threads);
        _input = new ModelInput(_session, resize);
        _mask = new Mat(_session.Info.Height, _session.Info.Width, MatType.CV_8UC1);
    }

    public string Path => _session.Info.Path;

    public ModelInfo Info => _session.Info;

    public int Height => _session.Info.Height;

    public int Width => _session.Info.Width;

    /// <summary>The resize in use (the one asked for, or the model's).</summary>
    public InputResize Resize => _input.Resize;

    /// <summary>trainIds (8-bit, one channel) for an 8-bit BGR image, at the image's size.</summary>
    public Mat Segment(Mat bgr)
    {
        if (bgr.Type() != MatType.CV_8UC3) throw new ArgumentException($"Expected an 8-bit BGR image, got {bgr.Type()}.", nameof(bgr));
        using (var input = InputArray.Create(bgr)) _input.Load(bgr, input);
        _session.Run();
        unsafe
        {
            _session.MaskOf(0).CopyTo(new Span<byte>((void*)_mask.DataPointer, Height * Width));
        }
        return _mask.Resize(new Size(bgr.Cols, bgr.Rows), 0, 0, InterpolationFlags.Nearest);
    }

    public void Dispose()
    {
        _input.Dispose();
        _mask.Dispose();
        _session.Dispose();
    }
}
