using OpenCvSharp;

namespace DANNet.Edge.Inference;

/// <summary>
/// The model's input as a camera frame goes into it: an OpenCV header over the session's pinned
/// input buffer and the allocation-free resize into it. Owns both; the session owns the buffer.
/// The daemon's pipeline and <c>dannet-edge bench</c> feed frames through this one wiring.
/// </summary>
public sealed class ModelInput : IDisposable
{
    private readonly Mat _input;
    private readonly InputResizer _resizer;

    public ModelInput(SegmentationSession session)
    {
        _input = Mat.FromPixelData(session.Info.Height, session.Info.Width, MatType.CV_8UC3, session.ImageAddress);
        _resizer = new InputResizer(_input);
    }

    /// <summary>Resizes an 8-bit BGR frame of any size into the model input (bilinear; a copy when the size matches).</summary>
    public void Load(InputArray frame) => _resizer.Resize(frame);

    public void Dispose()
    {
        _resizer.Dispose();
        _input.Dispose();
    }
}
