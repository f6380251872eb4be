using DANNet.Edge.SharedMemory;

namespace DANNet.Edge.Tap;

/// <summary>What <c>dannet-edge tap</c> does.</summary>
/// <param name="Path">The ring file.</param>
/// <param name="Frames">Stop after this many frames (0: no limit).</param>
/// <param name="Duration">Stop after this long (null: no limit).</param>
/// <param name="PngDir">Write every <paramref name="PngEvery"/>-th frame there as a colour PNG.</param>
/// <param name="VerifyPattern">Check every frame against the test pattern (for ring tests).</param>
/// <param name="StaleAfter">Heartbeat age after which the writer counts as dead.</param>
/// <param name="Json">Print the summary as one JSON object instead of text.</param>
/// <param name="AnyWriter">Read a ring whose writer is stopped or dead too (its last frames), instead of waiting for a live one.</param>
/// <param name="Trust">Whose ring to believe (default: your own user's or root's).</param>
public sealed record TapOptions(string Path, long Frames = 0, TimeSpan? Duration = null, string? PngDir = null, int PngEvery = 1,
    bool VerifyPattern = false, TimeSpan? StaleAfter = null, bool Json = false, bool AnyWriter = false, RingTrust? Trust = null)
{
    public const string DefaultPath = "/dev/shm/dannet-edge/masks";
}
