using System.Globalization;
using OpenCvSharp;

namespace DANNet.Edge.Replay;

/// <summary>
/// The reports' pictures: panels with scaled axes (ticks at 1, 2 or 5 × 10^k, gridlines, labelled values, axis titles) on a
/// white PNG — line panels over a numeric x, and bar panels with one row per category (class, drive) over a numeric x.
/// </summary>
public sealed class Chart(int width, int height) : IDisposable
{
    public Mat Image { get; } = new(height, width, MatType.CV_8UC3, Scalar.All(255));

    public const HersheyFonts Font = HersheyFonts.HersheySimplex;

    /// <summary>A panel with numeric x and y axes inside <paramref name="area"/> (which includes room for tick labels and titles).</summary>
    public ChartPanel Lines(Rect area, string title, double xMin, double xMax, double yMin, double yMax, string xTitle, string yTitle)
    {
        var plot = new Rect(area.X + 56, area.Y + 22, area.Width - 66, area.Height - 60);
        var panel = new ChartPanel(Image, plot, xMin, xMax, yMin, yMax);
        panel.Frame(title, xTitle, yTitle, categories: null);
        return panel;
    }

    /// <summary>A panel with one row per category (labels on the left) and a numeric x axis.</summary>
    public ChartPanel Bars(Rect area, string title, IReadOnlyList<string> categories, double xMin, double xMax, string xTitle)
    {
        int labelWidth = Math.Min(area.Width / 3, 12 + 7 * categories.DefaultIfEmpty("").Max(c => c.Length));
        var plot = new Rect(area.X + labelWidth, area.Y + 22, area.Width - labelWidth - 14, area.Height - 60);
        // Row c at y = −c: the first category on top.
        var panel = new ChartPanel(Image, plot, xMin, xMax, 0.5 - categories.Count, 0.5);
        panel.Frame(title, xTitle, "", categories);
        return panel;
    }

    /// <summary>Coloured squares with names from <paramref name="at"/>, one per line or (<paramref name="across"/>) side by side.</summary>
    public void Legend(Point at, IEnumerable<(string Name, Scalar Colour)> entries, bool across = false)
    {
        int x = at.X, y = at.Y;
        foreach (var (name, colour) in entries)
        {
            Cv2.Rectangle(Image, new Rect(x, y, 12, 12), colour, -1);
            Cv2.PutText(Image, name, new Point(x + 18, y + 11), Font, 0.45, Scalar.Black, 1, LineTypes.AntiAlias);
            if (across) x += 30 + 9 * name.Length;
            else y += 18;
        }
    }

    public void Text(Point at, string text, double scale = 0.45) => Cv2.PutText(Image, text, at, Font, scale, Scalar.Black, 1, LineTypes.AntiAlias);

    /// <summary>The picture as PNG bytes.</summary>
    public byte[] Png() =>
        Cv2.ImEncode(".png", Image, out byte[] png) && png.Length > 0 ? png : throw new IOException("OpenCV could not encode a chart as PNG.");

    /// <summary>Tick values between <paramref name="min"/> and <paramref name="max"/> at a step of 1, 2 or 5 × 10^k, at most about <paramref name="count"/>.</summary>
    public static IReadOnlyList<double> Ticks(double min, double max, int count = 6)
    {
        if (!(max > min)) return [min];
        double raw = (max - min) / Math.Max(1, count);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw * 0.999);
        var ticks = new List<double>();
        for (double v = Math.Ceiling(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) ticks.Add(Math.Abs(v) < step * 1e-9 ? 0 : v);
        return ticks;
    }

    /// <summary>A tick label with no more digits than the step needs.</summary>
    public static string Label(double value, IReadOnlyList<double> ticks)
    {
        double step = ticks.Count > 1 ? ticks[1] - ticks[0] : Math.Abs(value);
        int decimals = step >= 1 || step == 0 ? 0 : (int)Math.Ceiling(-Math.Log10(step) - 1e-9);
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    /// <summary>A range that holds every value and zero, with a little room above (for axes of latencies, shares, differences).</summary>
    public static (double Min, double Max) Range(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        double min = Math.Min(0, finite.Min()), max = Math.Max(0, finite.Max());
        if (max - min < 1e-12) max = min + 1;
        double pad = (max - min) * 0.05;
        return (min < 0 ? min - pad : min, max + pad);
    }

    public void Dispose() => Image.Dispose();
}

/// <summary>One panel of a <see cref="Chart"/>: maps data to pixels and draws series.</summary>
public sealed class ChartPanel(Mat image, Rect plot, double xMin, double xMax, double yMin, double yMax)
{
    public Point At(double x, double y) => new(
        plot.X + (int)Math.Round((x - xMin) / (xMax - xMin) * plot.Width),
        plot.Y + plot.Height - (int)Math.Round((y - yMin) / (yMax - yMin) * plot.Height));

    internal void Frame(string title, string xTitle, string yTitle, IReadOnlyList<string>? categories)
    {
        var grid = Scalar.All(225);
        var xTicks = Chart.Ticks(xMin, xMax);
        foreach (double x in xTicks)
        {
            var p = At(x, yMin);
            Cv2.Line(image, new Point(p.X, plot.Y), new Point(p.X, plot.Bottom), grid, 1);
            string label = Chart.Label(x, xTicks);
            Cv2.PutText(image, label, new Point(p.X - 4 * label.Length, plot.Bottom + 16), Chart.Font, 0.4, Scalar.Black, 1, LineTypes.AntiAlias);
        }
        if (categories is null)
        {
            var yTicks = Chart.Ticks(yMin, yMax, 5);
            foreach (double y in yTicks)
            {
                var p = At(xMin, y);
                Cv2.Line(image, new Point(plot.X, p.Y), new Point(plot.Right, p.Y), grid, 1);
                string label = Chart.Label(y, yTicks);
                Cv2.PutText(image, label, new Point(plot.X - 8 - 8 * label.Length, p.Y + 4), Chart.Font, 0.4, Scalar.Black, 1, LineTypes.AntiAlias);
            }
            if (yMin < 0 && yMax > 0) Cv2.Line(image, At(xMin, 0), At(xMax, 0), Scalar.All(120), 1);
        }
        else
        {
            for (int c = 0; c < categories.Count; c++)
                if (categories[c].Length > 0)
                    Cv2.PutText(image, categories[c], new Point(plot.X - 8 - 7 * categories[c].Length, At(xMin, -c).Y + 4), Chart.Font, 0.4, Scalar.Black, 1,
                    LineTypes.AntiAlias);
            if (xMin < 0 && xMax > 0) Cv2.Line(image, new Point(At(0, 0).X, plot.Y), new Point(At(0, 0).X, plot.Bottom), Scalar.All(120), 1);
        }
        Cv2.Rectangle(image, plot, Scalar.All(140), 1);
        if (title.Length > 0) Cv2.PutText(image, title, new Point(plot.X, plot.Y - 8), Chart.Font, 0.5, Scalar.Black, 1, LineTypes.AntiAlias);
        if (xTitle.Length > 0) Cv2.PutText(image, xTitle, new Point(plot.X + plot.Width / 2 - 3 * xTitle.Length, plot.Bottom + 34), Chart.Font, 0.42, Scalar.All(60), 1, LineTypes.AntiAlias);
        if (yTitle.Length > 0) Cv2.PutText(image, yTitle, new Point(plot.X + 4, plot.Y + 14), Chart.Font, 0.4, Scalar.All(60), 1, LineTypes.AntiAlias);
    }

    /// <summary>A line through the points, in data coordinates.</summary>
    public void Polyline(IReadOnlyList<(double X, double Y)> points, Scalar colour, int thickness = 1)
    {
        for (int i = 1; i < points.Count; i++)
            Cv2.Line(image, At(points[i - 1].X, points[i - 1].Y), At(points[i].X, points[i].Y), colour, thickness, LineTypes.AntiAlias);
        if (points.Count == 1) Cv2.Circle(image, At(points[0].X, points[0].Y), 3, colour, -1, LineTypes.AntiAlias);
    }

    /// <summary>A bar in row <paramref name="category"/> from x = <paramref name="from"/> to <paramref name="to"/>; rows hold <paramref name="slots"/> bars side by side.</summary>
    public void Bar(int category, double from, double to, Scalar colour, int slot = 0, int slots = 1)
    {
        int rowHeight = Math.Max(3, (int)(plot.Height / (yMax - yMin)));
        int barHeight = Math.Max(2, (int)(rowHeight * 0.8 / slots));
        int top = At(xMin, -category).Y - (int)(rowHeight * 0.4) + slot * barHeight;
        int x0 = At(Math.Min(from, to), 0).X, x1 = At(Math.Max(from, to), 0).X;
        Cv2.Rectangle(image, new Rect(x0, top, Math.Max(1, x1 - x0), barHeight - 1), colour, -1);
    }
}
