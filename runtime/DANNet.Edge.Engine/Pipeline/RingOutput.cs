using DANNet.Model;
using DANNet.Edge.SharedMemory;
using Microsoft.ML.OnnxRuntime;

namespace DANNet.Edge.Pipeline;

/// <summary>
/// The pipeline's output: masks written by ONNX Runtime straight into the shared-memory ring.
/// Owns one output binding per ring slot (made once, so a frame allocates nothing and copies
/// nothing); <see cref="Infer"/> takes the next slot and runs the model into it, <see cref="Commit"/>
/// publishes it to readers.
/// Dispose it before the ring and the session: its bindings point into both.
/// </summary>
public sealed class RingOutput : IDisposable
{
    private readonly SegmentationSession _session;
    private readonly MaskRingWriter _ring;
    private readonly OrtValue[] _slotValues;
    private readonly OrtIoBinding[] _slotBindings;

    public RingOutput(SegmentationSession session, MaskRingWriter ring)
    {
        if (ring.Geometry.Width != session.Info.Width || ring.Geometry.Height != session.Info.Height)
            throw new ArgumentException($"The ring holds {ring.Geometry.Width}x{ring.Geometry.Height} masks, the model makes {session.Info.Width}x{session.Info.Height}.");
        _session = session;
        _ring = ring;
        _slotValues = new OrtValue[ring.Geometry.SlotCount];
        _slotBindings = new OrtIoBinding[ring.Geometry.SlotCount];
        for (int i = 0; i < _slotValues.Length; i++)
        {
            _slotValues[i] = session.MaskValueOver(ring.SlotMaskAddress(i));
            _slotBindings[i] = session.BindingTo(_slotValues[i]);
        }
    }

    /// <summary>Segments the frame in the model input into the next ring slot (readers see it as being written).</summary>
    public void Infer()
    {
        int slot = _ring.NextSlot;
        _ring.BeginFrame();
        _session.Run(_slotBindings[slot]);
        LastSlot = slot;
    }

    /// <summary>The slot the last <see cref="Infer"/> wrote.</summary>
    public int LastSlot { get; private set; }

    /// <summary>The mask in <paramref name="slot"/> (height·width trainIds), valid until the ring comes round to that slot again.</summary>
    public unsafe ReadOnlySpan<byte> Mask(int slot) => new((void*)_ring.SlotMaskAddress(slot), _ring.Geometry.MaskBytes);

    /// <summary>Publishes the slot <see cref="Infer"/> wrote; returns the frame id.</summary>
    public ulong Commit(ulong captureNs) => _ring.Commit(captureNs);

    /// <summary>Counts frames dropped before inference in the ring's header, for readers.</summary>
    public void CountDropped(ulong frames) => _ring.CountDropped(frames);

    public void Dispose()
    {
        foreach (var b in _slotBindings) b?.Dispose();
        foreach (var v in _slotValues) v?.Dispose();
    }
}
