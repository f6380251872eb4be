using DANNet.Edge.Contracts;
using OpenCvSharp;

namespace DANNet.Model;

/// <summary>
/// The model's input as a camera frame goes into it: an OpenCV header over the session's pinned
/// input buffer and the allocation-free resize into it. Owns both; the session owns the buffer.
/// The daemon's pipeline and <c>dannet-edge bench</c> feed frames through this one wiring.
/// </summary>
public sealed class ModelInput : IDisposable
{
    private readonly Mat _input;
    private readonly InputResizer _resizer;

    /// <param name="session">The session whose input buffer frames go into.</param>
    /// <param name="resize">The resize; null: the model's own (<see cref="ModelInfo.Resize"/>).</param>
    /// <param name="slot">Which image of the model's batch this input fills (0 for a model of batch 1).</param>
    public ModelInput(SegmentationSession session, InputResize? resize, int slot = 0)
    {
        Resize = resize ?? session.Info.Resize;
        _input = Mat.FromPixelData(session.Info.Height, session.Info.Width, MatType.CV_8UC3, session.ImageAddressOf(slot));
        _resizer = new InputResizer(_input, Resize);
    }

    /// <summary>The resize in use (the one asked for, or the model's).</summary>
    public InputResize Resize { get; }

    /// <summary>Resizes an 8-bit BGR frame of any size (<paramref name="input"/> wraps <paramref name="frame"/>) into the model input; a copy when the size matches.</summary>
    public void Load(Mat frame, InputArray input) => _resizer.Resize(frame, input);

    public void Dispose()
    {
        _resizer.Dispose();
        _input.Dispose();
    }
}
