
using DANNet.Model;
namespace DANNet.Calibration.Measurement;

/// <summary>
/// Times several models on the same frame with the runtime's session (pinned input, bound output,
/// one <c>RunWithBinding</c> per frame), after warm-up runs of each. The models take turns in
/// blocks of <see cref="Block"/> runs, so that whatever else the machine does slows them alike; not
/// run by run, because ONNX Runtime's worker threads keep spinning for a moment after each run and
/// would then compete with the next model's. Each block starts with one untimed run for that reason.
/// </summary>
public static class ModelTiming
{
    public const int Block = 5;

    public static IReadOnlyList<LatencySummary> Interleaved(IReadOnlyList<SegmentationSession> sessions, ReadOnlySpan<byte> frame, int runs, int warmup = 3,
        IProgress<(int Done, int Total)>? progress = null)
    {
        if (runs < 1) throw new ArgumentOutOfRangeException(nameof(runs), "At least one timed run.");
        Span<double> discard = stackalloc double[1];
        foreach (var s in sessions)
        {
            if (frame.Length != s.Image.Length)
                throw new ArgumentException($"A {frame.Length}-byte frame for '{s.Info.Path}', whose input takes {s.Image.Length} bytes.");
            frame.CopyTo(s.Image);
            for (int i = 0; i < warmup; i++) s.Time(discard);
        }
        var times = sessions.Select(_ => new double[runs]).ToArray();
        for (int start = 0; start < runs; start += Block)
        {
            int n = Math.Min(Block, runs - start);
            for (int s = 0; s < sessions.Count; s++)
            {
                sessions[s].Time(discard);
                sessions[s].Time(times[s].AsSpan(start, n));
            }
            progress?.Report((start + n, runs));
        }
        return times.Select(t => LatencySummary.Of(t)).ToList();
    }
}
