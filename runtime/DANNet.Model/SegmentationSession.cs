using System.Diagnostics;
using DANNet.Edge.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace DANNet.Model;

/// <summary>
/// One exported DANNet model in ONNX Runtime, run the allocation-free way: the input and mask
/// buffers and their <see cref="OrtValue"/>s are created and bound once (<see cref="OrtIoBinding"/>),
/// and each frame is one <c>RunWithBinding</c> over them. This is the CPU path; GPU providers come with the
/// daemon's provider list.
/// </summary>
public sealed class SegmentationSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly byte[] _image;
    private readonly byte[] _mask;
    private readonly OrtValue _imageValue;
    private readonly OrtValue _maskValue;
    private readonly OrtIoBinding _binding;

    private SegmentationSession(InferenceSession session, ModelInfo info)
    {
        _session = session;
        Info = info;
        // Pinned for good: OpenCV resizes camera frames straight into it through a Mat header.
        _image = GC.AllocateArray<byte>(info.Batch * info.Height * info.Width * ModelContract.ImageChannels, pinned: true);
        _mask = new byte[info.Batch * info.Height * info.Width];
        _imageValue = OrtValue.CreateTensorValueFromMemory(_image, [info.Batch, info.Height, info.Width, ModelContract.ImageChannels]);
        _maskValue = OrtValue.CreateTensorValueFromMemory(_mask, [info.Batch, info.Height, info.Width]);
        // Bound once: a Run over a binding marshals no names and allocates nothing managed per frame.
        _binding = session.CreateIoBinding();
        _binding.BindInput(ModelContract.ImageInput, _imageValue);
        _binding.BindOutput(ModelContract.MaskOutput, _maskValue);
    }

    public ModelInfo Info { get; }

    /// <summary>The input buffer: write BGR frames of the model's size here (batch × H×W×3 bytes), then <see cref="Run"/>.</summary>
    public Span<byte> Image => _image;

    /// <summary>Address of <see cref="Image"/> (pinned), for native writers such as an OpenCV Mat header.</summary>
    public IntPtr ImageAddress => ImageAddressOf(0);

    /// <summary>Address of image <paramref name="slot"/> of the batch in <see cref="Image"/> (pinned).</summary>
    public IntPtr ImageAddressOf(int slot)
    {
        if ((uint)slot >= (uint)Info.Batch) throw new ArgumentOutOfRangeException(nameof(slot), slot, $"The model takes {Info.Batch} image(s) per run.");
        return System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(_image, slot * Info.Height * Info.Width * ModelContract.ImageChannels);
    }

    /// <summary>The mask of the last <see cref="Run"/> (batch × H×W trainIds).</summary>
    public ReadOnlySpan<byte> Mask => _mask;

    /// <summary>The mask of image <paramref name="slot"/> of the last <see cref="Run"/> (H×W trainIds).</summary>
    public ReadOnlySpan<byte> MaskOf(int slot)
    {
        if ((uint)slot >= (uint)Info.Batch) throw new ArgumentOutOfRangeException(nameof(slot), slot, $"The model takes {Info.Batch} image(s) per run.");
        return _mask.AsSpan(slot * Info.Height * Info.Width, Info.Height * Info.Width);
    }

    /// <summary>The execution provider the model runs on.</summary>
    public ExecutionProvider Provider { get; private init; } = ExecutionProvider.Cpu;

    /// <summary>Opens <paramref name="path"/> on the CPU provider with <paramref name="threads"/> intra-op threads (0: ONNX Runtime's default).</summary>
    public static SegmentationSession OpenCpu(string path, int threads = 0) =>
        Open(path, new ModelOptions { Providers = ["cpu"], Threads = threads }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>
    /// Opens a model held in memory on the CPU provider (a model being built, e.g. one candidate of calibration's sensitivity report);
    /// <paramref name="name"/> names it in messages and <see cref="ModelInfo.Path"/>.
    /// </summary>
    public static SegmentationSession OpenCpu(byte[] model, string name, int threads = 0) =>
        Open(name, model, new ModelOptions { Providers = ["cpu"], Threads = threads }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>Opens <paramref name="path"/> on the first provider of <paramref name="options"/> that works, checking the model contract.</summary>
    public static SegmentationSession Open(string path, ModelOptions options, ILogger log)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No model at '{path}'. Export one with 'dannet-train export', or use the embedded default.", path);
        return Open(path, null, options, log);
    }

    private static SegmentationSession Open(string path, byte[]? bytes, ModelOptions options, ILogger log)
    {
        InferenceSession session;
        ExecutionProvider provider;
        try
        {
            (session, provider) = ExecutionProviders.Open(path, bytes, options, log);
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidDataException($"ONNX Runtime cannot load '{path}': {ex.Message}", ex);
        }
        try
        {
            static Dictionary<string, (Type, int[])> Describe(IReadOnlyDictionary<string, NodeMetadata> nodes) =>
                nodes.ToDictionary(kv => kv.Key, kv => (kv.Value.ElementType, kv.Value.Dimensions));
            var info = ModelInfo.From(path, Describe(session.InputMetadata), Describe(session.OutputMetadata), session.ModelMetadata.CustomMetadataMap);
            return new SegmentationSession(session, info) { Provider = provider };
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A mask tensor over native memory the caller owns (e.g. a ring slot, height·width bytes), for
    /// <see cref="BindingTo"/>. The caller disposes it, before that memory goes.
    /// </summary>
    public OrtValue MaskValueOver(IntPtr mask) => Info.Batch != 1
        ? throw new InvalidOperationException($"A model of batch {Info.Batch} writes its masks into its own buffer (MaskOf), not into one ring slot.")
        : OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.UInt8,
            [1, Info.Height, Info.Width], mask, (long)Info.Height * Info.Width);

    /// <summary>A binding of <see cref="Image"/> to <paramref name="mask"/>, made once: <see cref="Run(OrtIoBinding)"/> then writes there without a
    /// copy or an allocation. The caller disposes it.</summary>
    public OrtIoBinding BindingTo(OrtValue mask)
    {
        var binding = _session.CreateIoBinding();
        binding.BindInput(ModelContract.ImageInput, _imageValue);
        binding.BindOutput(ModelContract.MaskOutput, mask);
        return binding;
    }

    /// <summary>Segments the frame in <see cref="Image"/> into the mask of <paramref name="binding"/> (from <see cref="BindingTo"/>).</summary>
    public void Run(OrtIoBinding binding) => _session.RunWithBinding(_runOptions, binding);

    /// <summary>Segments the frame in <see cref="Image"/> into <see cref="Mask"/>.</summary>
    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    /// <summary>Runs once per element of <paramref name="milliseconds"/>, storing each run's latency there.</summary>
    public void Time(Span<double> milliseconds)
    {
        for (int i = 0; i < milliseconds.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Run();
            milliseconds[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
    }

    public void Dispose()
    {
        _binding.Dispose();
        _imageValue.Dispose();
        _maskValue.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
