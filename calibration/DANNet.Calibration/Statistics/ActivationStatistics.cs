using DANNet.Calibration.Quantization;
using DANNet.Edge.Contracts;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace DANNet.Calibration.Statistics;

/// <summary>
/// Collects |x| histograms of the planned tensors with ONNX Runtime: the float model with those
/// tensors added as graph outputs, run on the calibration frames (the model's own uint8 BGR input)
/// twice — once for each tensor's largest |x|, once for its histogram over [0, that maximum].
/// </summary>
public sealed class ActivationStatistics : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly int _height;
    private readonly int _width;

    public ActivationStatistics(ModelProto floatModel, IReadOnlyList<PlannedTensor> plan, int threads = 0)
    {
        Plan = plan;
        var model = floatModel.Clone();
        var existing = model.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var t in plan.Where(t => !existing.Contains(t.Name)))
            model.Graph.Output.Add(new ValueInfoProto
            {
                Name = t.Name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        _session = new InferenceSession(model.ToByteArray(), options);
        var dims = _session.InputMetadata[ModelContract.ImageInput].Dimensions;
        (_height, _width) = (dims[1], dims[2]);
    }

    public IReadOnlyList<PlannedTensor> Plan { get; }

    /// <summary>Histograms per planned tensor over <paramref name="frames"/> (each H×W×3 bytes, BGR).</summary>
    public Dictionary<string, AbsHistogram> Collect(IReadOnlyList<byte[]> frames, IProgress<(int Done, int Total)>? progress = null)
    {
        var max = Plan.ToDictionary(t => t.Name, _ => 0.0, StringComparer.Ordinal);
        int total = 2 * frames.Count, done = 0;
        foreach (var frame in frames)
        {
            Run(frame, (name, values) =>
            {
                double m = max[name];
                foreach (float v in values) if (float.IsFinite(v) && Math.Abs(v) > m) m = Math.Abs(v);
                max[name] = m;
            });
            progress?.Report((++done, total));
        }
        var histograms = Plan.ToDictionary(t => t.Name, t => new AbsHistogram(max[t.Name] > 0 ? max[t.Name] : 1.0), StringComparer.Ordinal);
        foreach (var frame in frames)
        {
            Run(frame, (name, values) => histograms[name].Add(values));
            progress?.Report((++done, total));
        }
        return histograms;
    }

    private void Run(byte[] frame, Action<string, ReadOnlySpan<float>> each)
    {
        if (frame.Length != _height * _width * 3) throw new ArgumentException($"A calibration frame holds {frame.Length} bytes; the model takes {_width}x{_height}x3.");
        using var input = OrtValue.CreateTensorValueFromMemory(frame, [1, _height, _width, 3]);
        var names = Plan.Select(t => t.Name).ToArray();
        using var results = _session.Run(_run, [ModelContract.ImageInput], [input], names);
        for (int i = 0; i < names.Length; i++) each(names[i], results[i].GetTensorDataAsSpan<float>());
    }

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
    }
}
