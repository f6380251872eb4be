using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>
/// Everything one render pass produces: the surface colours (albedo, BGR), the labelIds, what glows
/// by itself at night (emissive), and the light that lamps and headlights throw onto surfaces and
/// into haze. Light layers are kept at a quarter of the resolution: they are smooth anyway, and
/// additive drawing there is cheap. Every surface drawn also paints the emissive layer (black unless
/// it glows), so a car in front of a lit window hides the window at night too.
/// </summary>
public sealed class RenderLayers : IDisposable
{
    public const int LightDownscale = 4;
    private readonly Mat _scratch;

    public RenderLayers(int width, int height)
    {
        Width = width; Height = height;
        Albedo = new Mat(height, width, MatType.CV_8UC3, Scalar.All(0));
        Label = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
        Emissive = new Mat(height, width, MatType.CV_32FC3, Scalar.All(0));
        var lightSize = new Size(Math.Max(1, width / LightDownscale), Math.Max(1, height / LightDownscale));
        LightPools = new Mat(lightSize, MatType.CV_32FC3, Scalar.All(0));
        Haze = new Mat(lightSize, MatType.CV_32FC3, Scalar.All(0));
        _scratch = new Mat(lightSize, MatType.CV_32FC3, Scalar.All(0));
    }

    public int Width { get; }
    public int Height { get; }
    public Mat Albedo { get; }
    public Mat Label { get; }
    public Mat Emissive { get; }
    public Mat LightPools { get; }
    public Mat Haze { get; }

    /// <summary>Fills a polygon (fixed-point, <see cref="PinholeCamera.Shift"/>) on every surface layer.</summary>
    public void Fill(Point[] polygon, byte labelId, Scalar albedo, Scalar emissive = default)
    {
        Point[][] polys = [polygon];
        Cv2.FillPoly(Albedo, polys, albedo, LineTypes.AntiAlias, PinholeCamera.Shift);
        Cv2.FillPoly(Label, polys, Scalar.All(labelId), LineTypes.Link8, PinholeCamera.Shift);
        Cv2.FillPoly(Emissive, polys, emissive, LineTypes.Link8, PinholeCamera.Shift);
    }

    /// <summary>Fills an ellipse given in fixed-point pixels on every surface layer.</summary>
    public void FillEllipse(Point center, Size axes, double angle, byte labelId, Scalar albedo, Scalar emissive = default)
    {
        Cv2.Ellipse(Albedo, center, axes, angle, 0, 360, albedo, -1, LineTypes.AntiAlias, PinholeCamera.Shift);
        Cv2.Ellipse(Label, center, axes, angle, 0, 360, Scalar.All(labelId), -1, LineTypes.Link8, PinholeCamera.Shift);
        Cv2.Ellipse(Emissive, center, axes, angle, 0, 360, emissive, -1, LineTypes.Link8, PinholeCamera.Shift);
    }

    /// <summary>Draws a thick line (fixed-point ends, thickness in whole pixels) on every surface layer.</summary>
    public void Line(Point a, Point b, int thickness, byte labelId, Scalar albedo)
    {
        thickness = Math.Max(1, thickness);
        Cv2.Line(Albedo, a, b, albedo, thickness, LineTypes.AntiAlias, PinholeCamera.Shift);
        Cv2.Line(Label, a, b, Scalar.All(labelId), thickness, LineTypes.Link8, PinholeCamera.Shift);
        Cv2.Line(Emissive, a, b, Scalar.All(0), thickness, LineTypes.Link8, PinholeCamera.Shift);
    }

    /// <summary>Paints colour only (texture, paint, shadow): the label and emissive layers stay as they are.</summary>
    public void Paint(Point[] polygon, Scalar albedo) =>
        Cv2.FillPoly(Albedo, new[] { polygon }, albedo, LineTypes.AntiAlias, PinholeCamera.Shift);

    /// <summary>Adds light falling on surfaces inside a full-resolution fixed-point polygon.</summary>
    public void AddLightPool(Point[] polygon, Scalar light) => AddTo(LightPools, polygon, light);

    /// <summary>Adds light scattered in the air (light cones, glare) inside a polygon.</summary>
    public void AddHaze(Point[] polygon, Scalar light) => AddTo(Haze, polygon, light);

    private void AddTo(Mat layer, Point[] polygon, Scalar light)
    {
        const int down = LightDownscale;
        var small = new Point[polygon.Length];
        for (int i = 0; i < polygon.Length; i++) small[i] = new Point(polygon[i].X / down, polygon[i].Y / down);
        _scratch.SetTo(Scalar.All(0));
        Cv2.FillPoly(_scratch, new[] { small }, light, LineTypes.Link8, PinholeCamera.Shift); // anti-aliasing is for 8-bit images only
        Cv2.Add(layer, _scratch, layer);
    }

    public void Dispose()
    {
        Albedo.Dispose(); Label.Dispose(); Emissive.Dispose();
        LightPools.Dispose(); Haze.Dispose(); _scratch.Dispose();
    }
}
