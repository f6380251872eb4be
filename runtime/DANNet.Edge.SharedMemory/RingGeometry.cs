namespace DANNet.Edge.SharedMemory;

/// <summary>The shape of a ring: how many slots, and the mask size in each.</summary>
public sealed record RingGeometry(int SlotCount, int Width, int Height, int ClassCount)
{
    /// <summary>The slot counts a ring may have (a writer needs one slot to write while readers read another).</summary>
    public const int MinSlots = 2, MaxSlots = 1024;

    /// <summary>The largest mask side, in pixels.</summary>
    public const int MaxSide = DANNet.Edge.Contracts.ModelContract.MaxSide;

    public int SlotStride => ShmLayout.SlotStride(Width, Height);

    public long FileSize => ShmLayout.FileSize(SlotCount, Width, Height);

    public int MaskBytes => Width * Height;

    public void Validate()
    {
        if (SlotCount is < MinSlots or > MaxSlots) throw new ArgumentException($"Ring slot count must be {MinSlots}..{MaxSlots}, got {SlotCount}.");
        if (Width is < 1 or > MaxSide || Height is < 1 or > MaxSide) throw new ArgumentException($"Mask size {Width}x{Height} is out of range (1..{MaxSide}).");
        if (ClassCount is < 1 or > 255) throw new ArgumentException($"Class count must be 1..255, got {ClassCount}.");
    }
}
