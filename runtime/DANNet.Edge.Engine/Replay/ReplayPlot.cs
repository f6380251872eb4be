using DANNet.Edge.Contracts;
using OpenCvSharp;

namespace DANNet.Edge.Replay;

/// <summary>
/// The report's picture: per-frame capture→mask latency (top) and the share of the image each of the
/// drive's five largest classes takes (bottom, in the classes' palette colours), over the frames.
/// </summary>
public static class ReplayPlot
{
    public static void Write(string path, IReadOnlyList<double> latencyMs, IReadOnlyList<double[]> shares, IReadOnlyList<string> classes, IReadOnlyList<Rgb> palette)
    {
        const int W = 960, Panel = 220, Margin = 40;
        using var image = new Mat(2 * Panel + 3 * Margin, W, MatType.CV_8UC3, Scalar.All(255));
        int n = Math.Max(2, latencyMs.Count);
        int X(int i) => Margin + (int)((long)i * (W - 2 * Margin) / (n - 1));
        double maxMs = Math.Max(1, latencyMs.DefaultIfEmpty(1).Max() * 1.1);
        Axes(image, Margin, Panel, $"capture -> mask latency (ms), max {maxMs / 1.1:F0}");
        for (int i = 1; i < latencyMs.Count; i++)
            Cv2.Line(image, new Point(X(i - 1), Margin + Panel - (int)(latencyMs[i - 1] / maxMs * Panel)), new Point(X(i), Margin + Panel - (int)(latencyMs[i] / maxMs * Panel)),
                new Scalar(60, 60, 200), 1, LineTypes.AntiAlias);
        int top = 2 * Margin + Panel;
        Axes(image, top, Panel, "class share of the image (top 5 classes)");
        var totals = Enumerable.Range(0, classes.Count).Select(c => shares.Sum(s => c < s.Length ? s[c] : 0)).ToArray();
        var biggest = Enumerable.Range(0, classes.Count).OrderByDescending(c => totals[c]).Take(5).ToList();
        int legendX = W - 170;
        foreach (var (c, k) in biggest.Select((c, k) => (c, k)))
        {
            var colour = new Scalar(palette[c].B, palette[c].G, palette[c].R);
            for (int i = 1; i < shares.Count; i++)
                Cv2.Line(image, new Point(X(i - 1), top + Panel - (int)(shares[i - 1][c] * Panel)), new Point(X(i), top + Panel - (int)(shares[i][c] * Panel)), colour, 2, LineTypes.AntiAlias);
            Cv2.Rectangle(image, new Rect(legendX, top + 8 + 16 * k, 12, 12), colour, -1);
            Cv2.PutText(image, classes[c], new Point(legendX + 18, top + 18 + 16 * k), HersheyFonts.HersheySimplex, 0.45, Scalar.Black, 1, LineTypes.AntiAlias);
        }
        Cv2.PutText(image, $"frames 0..{latencyMs.Count - 1}", new Point(Margin, image.Rows - 10), HersheyFonts.HersheySimplex, 0.45, Scalar.Black, 1, LineTypes.AntiAlias);
        // The caller gives a fresh file of its own (replay renames it into place when complete): written directly.
        if (!Cv2.ImEncode(".png", image, out byte[] png) || png.Length == 0) throw new IOException($"OpenCV could not encode the plot for '{path}'.");
        File.WriteAllBytes(path, png);
    }

    private static void Axes(Mat image, int top, int height, string title)
    {
        Cv2.Rectangle(image, new Rect(40, top, image.Cols - 80, height), Scalar.All(180), 1);
        Cv2.PutText(image, title, new Point(44, top - 8), HersheyFonts.HersheySimplex, 0.5, Scalar.Black, 1, LineTypes.AntiAlias);
    }
}
