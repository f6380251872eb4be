using DANNet.Edge.Contracts;
using DANNet.Edge.SharedMemory;
using DANNet.Model;
using OpenCvSharp;

namespace DANNet.Edge.Pipeline;

/// <summary>When one frame left each stage (<see cref="MonotonicClock"/> ns), and the ring's id for its mask.</summary>
public readonly record struct StageTimes(ulong Preprocessed, ulong Inferred, ulong Published, ulong FrameId);

/// <summary>
/// The pipeline's per-frame work after capture, in one place: preprocess (the frame resized straight into the model's pinned input),
/// infer (ONNX Runtime writes the mask straight into the next ring slot) and publish (commit the slot). <see cref="FramePipeline"/>
/// runs it on its inference thread; <c>dannet-edge bench</c> runs the very same object frame by frame and times it.
/// Dispose it before the ring and the session.
/// </summary>
public sealed class FrameStages : IDisposable
{
    private readonly ModelInput _input;
    private readonly RingOutput _output;

    public FrameStages(SegmentationSession session, MaskRingWriter ring, InputResize? resize)
    {
        _output = new RingOutput(session, ring);
        try
        {
            _input = new ModelInput(session, resize);
        }
        catch
        {
            _output.Dispose();
            throw;
        }
    }

    /// <summary>The ring output (its slots, its dropped-frame counter).</summary>
    public RingOutput Output => _output;

    /// <summary>Preprocesses, infers and publishes one 8-bit BGR frame (<paramref name="input"/> wraps <paramref name="frame"/>).</summary>
    public StageTimes Run(Mat frame, InputArray input, ulong captureNs)
    {
        _input.Load(frame, input);
        ulong preprocessed = MonotonicClock.NowNs;
        _output.Infer();
        ulong inferred = MonotonicClock.NowNs;
        ulong frameId = _output.Commit(captureNs);
        return new StageTimes(preprocessed, inferred, MonotonicClock.NowNs, frameId);
    }

    public void Dispose()
    {
        _input.Dispose();
        _output.Dispose();
    }
}
