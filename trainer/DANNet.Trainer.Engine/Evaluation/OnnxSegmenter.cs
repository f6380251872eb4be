using DANNet.Edge.Contracts;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace DANNet.Trainer.Evaluation;

/// <summary>
/// An exported model (float or Q/DQ int8) run by ONNX Runtime on the CPU, as evaluation runs a
/// checkpoint: the image resized to the model's input with the evaluation resize, the graph's mask
/// scaled to the image size by nearest neighbour (the graph has already upsampled the logits to its
/// input size and taken the argmax, so the last step is a label resize, not a logit resize).
/// </summary>
public sealed class OnnxSegmenter : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();

    public OnnxSegmenter(string path, int threads = 0, InputResize resize = InputResize.Antialiased)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Model '{path}' does not exist.", path);
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        _session = new InferenceSession(path, options);
        if (!_session.InputMetadata.TryGetValue(ModelContract.ImageInput, out var input) || input.Dimensions.Length != 4 || input.Dimensions[3] != 3
            || !_session.OutputMetadata.ContainsKey(ModelContract.MaskOutput))
        {
            _session.Dispose();
            throw new InvalidDataException($"'{path}' is not an exported DANNet model (input '{ModelContract.ImageInput}' [1,H,W,3], output '{ModelContract.MaskOutput}').");
        }
        (Height, Width) = (input.Dimensions[1], input.Dimensions[2]);
        Resize = resize;
        Path = path;
    }

    public string Path { get; }

    public int Height { get; }

    public int Width { get; }

    public InputResize Resize { get; }

    /// <summary>trainIds (8-bit, one channel) for an 8-bit BGR image, at the image's size.</summary>
    public Mat Segment(Mat bgr)
    {
        using var resized = Evaluator.ResizeTo(bgr, Width, Height, Resize);
        var bytes = new byte[Height * Width * 3];
        System.Runtime.InteropServices.Marshal.Copy(resized.Data, bytes, 0, bytes.Length);
        using var value = OrtValue.CreateTensorValueFromMemory(bytes, [1, Height, Width, 3]);
        using var results = _session.Run(_run, [ModelContract.ImageInput], [value], [ModelContract.MaskOutput]);
        using var small = new Mat(Height, Width, MatType.CV_8UC1);
        small.SetArray(results[0].GetTensorDataAsSpan<byte>().ToArray());
        return small.Resize(new Size(bgr.Cols, bgr.Rows), 0, 0, InterpolationFlags.Nearest);
    }

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
    }
}
