using DANNet.Edge.Contracts;
using OpenCvSharp;

namespace DANNet.Edge.Replay;

/// <summary>
/// The report's picture (960x560): per-frame capture→mask latency in ms (top) and the share of the image, in %, each of the drive's
/// five largest classes takes (bottom, in the classes' palette colours), over the frame index — both with scaled axes.
/// </summary>
public static class ReplayPlot
{
    public static void Write(string path, IReadOnlyList<double> latencyMs, IReadOnlyList<double[]> shares, IReadOnlyList<string> classes, IReadOnlyList<Rgb> palette)
    {
        const int W = 960, H = 560;
        using var chart = new Chart(W, H);
        double lastFrame = Math.Max(1, latencyMs.Count - 1);
        var (_, maxMs) = Chart.Range(latencyMs);
        var latency = chart.Lines(new Rect(0, 4, W - 180, H / 2 - 4), "capture -> mask latency", 0, lastFrame, 0, maxMs, "frame", "ms");
        latency.Polyline(latencyMs.Select((ms, i) => ((double)i, ms)).ToList(), new Scalar(60, 60, 200));
        var share = chart.Lines(new Rect(0, H / 2, W - 180, H / 2 - 4), "class share of the image (5 largest classes)", 0, lastFrame, 0, 100, "frame", "%");
        var totals = Enumerable.Range(0, classes.Count).Select(c => shares.Sum(s => c < s.Length ? s[c] : 0)).ToArray();
        var biggest = Enumerable.Range(0, classes.Count).OrderByDescending(c => totals[c]).Take(5).ToList();
        Scalar Colour(int c) => new(palette[c].B, palette[c].G, palette[c].R);
        foreach (int c in biggest) share.Polyline(shares.Select((s, i) => ((double)i, 100 * s[c])).ToList(), Colour(c), 2);
        chart.Legend(new Point(W - 165, H / 2 + 26), biggest.Select(c => (classes[c], Colour(c))));
        // The caller gives a fresh file of its own (replay renames it into place when complete): written directly.
        File.WriteAllBytes(path, chart.Png());
    }
}
