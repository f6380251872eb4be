using System.Globalization;
using OpenCvSharp;

namespace DANNet.Trainer.Training;

/// <summary>Line charts drawn with OpenCV (loss terms and mIoU over iterations), written as PNG.</summary>
public static class CurvePlot
{
    private static readonly Scalar[] Colours =
    [
        new(180, 119, 31), new(14, 127, 255), new(44, 160, 44), new(40, 39, 214), new(189, 103, 148),
        new(75, 86, 140), new(194, 119, 227), new(127, 127, 127), new(34, 189, 188), new(207, 190, 23),
    ];

    /// <summary>
    /// One panel per group of series, stacked vertically. With <paramref name="sharedIterations"/> every panel spans the same
    /// iterations (the range of all points), so panels line up; with <paramref name="colourOrder"/> a series' colour is its name's
    /// place in that list, the same in every panel (otherwise its place in its panel).
    /// </summary>
    public static Mat Draw(IReadOnlyList<(string Title, IReadOnlyDictionary<string, List<(long X, double Y)>> Series)> panels, int width = 1000,
        int panelHeight = 320, bool sharedIterations = false, IReadOnlyList<string>? colourOrder = null)
    {
        var img = new Mat(panelHeight * panels.Count, width, MatType.CV_8UC3, Scalar.All(255));
        var all = panels.SelectMany(p => p.Series.Values).SelectMany(s => s).ToList();
        (long, long)? range = sharedIterations && all.Count > 0 ? (all.Min(q => q.X), all.Max(q => q.X)) : null;
        // The legend column is as wide as the longest name needs, so names are never cut.
        int legend = panels.SelectMany(p => p.Series.Keys).Select(n => Cv2.GetTextSize(n, HersheyFonts.HersheySimplex, 0.45, 1, out _).Width)
            .DefaultIfEmpty(0).Max();
        int right = Math.Max(170, legend + 50);
        for (int p = 0; p < panels.Count; p++)
            DrawPanel(img, new Rect(0, p * panelHeight, width, panelHeight), panels[p].Title, panels[p].Series, right, range, colourOrder);
        return img;
    }

    private static void DrawPanel(Mat img, Rect area, string title, IReadOnlyDictionary<string, List<(long X, double Y)>> series, int right,
        (long First, long Last)? range, IReadOnlyList<string>? colourOrder)
    {
        const int left = 70, top = 30, bottom = 40;
        var plot = new Rect(area.X + left, area.Y + top, area.Width - left - right, area.Height - top - bottom);
        Cv2.PutText(img, title, new Point(area.X + left, area.Y + 20), HersheyFonts.HersheySimplex, 0.55, Scalar.All(0), 1, LineTypes.AntiAlias);
        Cv2.Rectangle(img, plot, Scalar.All(160));
        var points = series.Values.SelectMany(s => s).ToList();
        if (points.Count == 0)
        {
            Cv2.PutText(img, "no data", new Point(plot.X + 10, plot.Y + 25), HersheyFonts.HersheySimplex, 0.5, Scalar.All(120), 1, LineTypes.AntiAlias);
            return;
        }
        double x0 = range?.First ?? points.Min(q => q.X), x1 = Math.Max(range?.Last ?? points.Max(q => q.X), x0 + 1);
        var (y0, y1, yStep) = ValueAxis(Math.Min(0, points.Min(q => q.Y)), points.Max(q => q.Y));
        Point Map(double x, double y) => new(plot.X + (int)((x - x0) / (x1 - x0) * plot.Width), plot.Bottom - (int)((y - y0) / (y1 - y0) * plot.Height));
        string format = "F" + Decimals(yStep);
        for (int i = 0; y0 + i * yStep <= y1 + yStep / 2; i++)
        {
            double y = y0 + i * yStep;
            var pt = Map(x0, y);
            Cv2.Line(img, new Point(plot.X, pt.Y), new Point(plot.Right, pt.Y), Scalar.All(230), 1);
            Cv2.PutText(img, y.ToString(format, CultureInfo.InvariantCulture), new Point(area.X + 5, pt.Y + 4), HersheyFonts.HersheySimplex, 0.4, Scalar.All(60), 1, LineTypes.AntiAlias);
        }
        // Iteration ticks under the axis at round numbers (1, 2 or 5 × 10^k apart, about five of them).
        double step = RoundStep((x1 - x0) / 5), first = Math.Ceiling(x0 / step) * step;
        for (int i = 0; i <= 10 && first + i * step <= x1; i++)   // at most 11 ticks, whatever the magnitudes
        {
            double x = first + i * step;
            string it = x.ToString("0", CultureInfo.InvariantCulture);
            var tick = Map(x, y0);
            int textWidth = Cv2.GetTextSize(it, HersheyFonts.HersheySimplex, 0.4, 1, out _).Width;
            Cv2.Line(img, tick, new Point(tick.X, tick.Y + 4), Scalar.All(160), 1);
            Cv2.PutText(img, it, new Point(Math.Min(tick.X - textWidth / 2, plot.Right - textWidth), plot.Bottom + 17), HersheyFonts.HersheySimplex, 0.4,
                Scalar.All(60), 1, LineTypes.AntiAlias);
        }
        Cv2.PutText(img, "iteration", new Point(plot.X + plot.Width / 2 - 30, plot.Bottom + 34), HersheyFonts.HersheySimplex, 0.45, Scalar.All(60), 1, LineTypes.AntiAlias);
        int k = 0;
        foreach (var (name, s) in series)
        {
            int at = colourOrder is null ? -1 : colourOrder.TakeWhile(n => n != name).Count();
            int place = colourOrder is not null && at < colourOrder.Count ? at : k;
            var colour = Colours[place % Colours.Length];
            var pts = s.OrderBy(q => q.X).Select(q => Map(q.X, q.Y)).ToArray();
            if (pts.Length == 1) Cv2.Circle(img, pts[0], 3, colour, -1, LineTypes.AntiAlias);
            else Cv2.Polylines(img, [pts], false, colour, 1, LineTypes.AntiAlias);
            Cv2.Line(img, new Point(plot.Right + 10, plot.Y + 12 + 18 * k), new Point(plot.Right + 30, plot.Y + 12 + 18 * k), colour, 2);
            Cv2.PutText(img, name, new Point(plot.Right + 35, plot.Y + 16 + 18 * k), HersheyFonts.HersheySimplex, 0.45, Scalar.All(0), 1, LineTypes.AntiAlias);
            k++;
        }
    }

    /// <summary>
    /// The value axis over [<paramref name="lo"/>, <paramref name="hi"/>]: the smallest round step (1, 2, 2.5 or 5 × 10^k) that covers the
    /// range in at most <paramref name="maxIntervals"/> intervals, and the range widened to whole steps — ticks at round values, and the
    /// highest point under the top gridline rather than on the frame.
    /// </summary>
    internal static (double Lo, double Hi, double Step) ValueAxis(double lo, double hi, int maxIntervals = 6)
    {
        if (!(hi > lo)) hi = lo + 1;
        double step = Math.Pow(10, Math.Floor(Math.Log10((hi - lo) / maxIntervals)));
        for (int i = 0; ; i = (i + 1) % 4)
        {
            double candidate = step * (i switch { 0 => 1, 1 => 2, 2 => 2.5, _ => 5 });
            double a = Math.Floor(lo / candidate + 1e-9) * candidate, b = Math.Ceiling(hi / candidate - 1e-9) * candidate;
            if ((b - a) / candidate <= maxIntervals + 1e-9) return (a, b, candidate);
            if (i == 3) step *= 10;
        }
    }

    /// <summary>The decimals a tick label of <paramref name="step"/> needs (2.5 → 1, 0.25 → 2, 0.1 → 1, 20 → 0).</summary>
    internal static int Decimals(double step)
    {
        for (int d = 0; d < 8; d++)
        {
            double scaled = step * Math.Pow(10, d);
            if (Math.Abs(scaled - Math.Round(scaled)) < 1e-6 * Math.Max(1, scaled)) return d;
        }
        return 8;
    }

    /// <summary>The round step (1, 2 or 5 × 10^k, at least 1) nearest above <paramref name="rough"/>.</summary>
    internal static double RoundStep(double rough)
    {
        if (rough <= 1) return 1;
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double m = rough / power;
        return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
    }

    /// <summary>Moving average over <paramref name="window"/> points, to make noisy loss curves readable.</summary>
    public static List<(long X, double Y)> Smooth(List<(long X, double Y)> s, int window)
    {
        var result = new List<(long, double)>(s.Count);
        double sum = 0;
        for (int i = 0; i < s.Count; i++)
        {
            sum += s[i].Y;
            if (i >= window) sum -= s[i - window].Y;
            result.Add((s[i].X, sum / Math.Min(i + 1, window)));
        }
        return result;
    }
}
