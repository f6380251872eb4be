using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>
/// A pinhole camera on the car: position, yaw (positive turns right) and pitch (positive looks down).
/// Projects world points to pixels with sub-pixel fixed-point coordinates for OpenCV's drawing
/// functions, and clips polygons at a near plane so geometry behind the camera never folds over.
/// </summary>
public sealed class PinholeCamera
{
    /// <summary>Fractional bits used with OpenCV's <c>shift</c> drawing argument.</summary>
    public const int Shift = 4;
    public const double NearPlane = 0.5;
    private const double FixedScale = 1 << Shift;

    private readonly double _cosYaw, _sinYaw, _cosPitch, _sinPitch;

    public PinholeCamera(int width, int height, double focal, Vec3 position, double yaw, double pitch)
    {
        Width = width; Height = height; Focal = focal; Position = position; Yaw = yaw; Pitch = pitch;
        (_sinYaw, _cosYaw) = Math.SinCos(yaw);
        (_sinPitch, _cosPitch) = Math.SinCos(pitch);
    }

    public int Width { get; }
    public int Height { get; }
    public double Focal { get; }
    public Vec3 Position { get; }
    public double Yaw { get; }
    public double Pitch { get; }

    /// <summary>Image row of the horizon (points at infinity straight ahead).</summary>
    public double HorizonRow => Height / 2.0 - Focal * Math.Tan(Pitch);

    /// <summary>World → camera coordinates (x right, y up, z forward).</summary>
    public Vec3 ToCamera(Vec3 world)
    {
        var d = world - Position;
        double xc = _cosYaw * d.X - _sinYaw * d.Z;
        double zy = _sinYaw * d.X + _cosYaw * d.Z;
        double yc = _cosPitch * d.Y + _sinPitch * zy;
        double zc = -_sinPitch * d.Y + _cosPitch * zy;
        return new Vec3(xc, yc, zc);
    }

    /// <summary>Camera coordinates → pixel (floating point). Only valid for z &gt; 0.</summary>
    public Point2d ProjectCamera(Vec3 c) =>
        new(Width / 2.0 + Focal * c.X / c.Z, Height / 2.0 - Focal * c.Y / c.Z);

    /// <summary>Depth of a world point along the optical axis.</summary>
    public double Depth(Vec3 world) => ToCamera(world).Z;

    /// <summary>Pixels per metre at a world point (for billboards); 0 behind the near plane.</summary>
    public double Scale(Vec3 world)
    {
        double z = Depth(world);
        return z > NearPlane ? Focal / z : 0;
    }

    public bool TryProject(Vec3 world, out Point2d pixel)
    {
        var c = ToCamera(world);
        if (c.Z <= NearPlane) { pixel = default; return false; }
        pixel = ProjectCamera(c);
        return true;
    }

    /// <summary>Fixed-point pixel for OpenCV drawing with <see cref="Shift"/>.</summary>
    public static Point ToFixed(Point2d p) =>
        new((int)Math.Round(Math.Clamp(p.X, -1e5, 1e5) * FixedScale), (int)Math.Round(Math.Clamp(p.Y, -1e5, 1e5) * FixedScale));

    /// <summary>
    /// Projects a planar world polygon, clipped at the near plane (Sutherland–Hodgman against one
    /// plane). Returns null when nothing of it lies in front of the camera.
    /// </summary>
    public Point[]? ProjectPolygon(ReadOnlySpan<Vec3> world)
    {
        Span<Vec3> cam = world.Length <= 16 ? stackalloc Vec3[world.Length] : new Vec3[world.Length];
        for (int i = 0; i < world.Length; i++) cam[i] = ToCamera(world[i]);

        var clipped = new List<Point>(world.Length + 2);
        for (int i = 0; i < cam.Length; i++)
        {
            var a = cam[i];
            var b = cam[(i + 1) % cam.Length];
            bool aIn = a.Z > NearPlane, bIn = b.Z > NearPlane;
            if (aIn) clipped.Add(ToFixed(ProjectCamera(a)));
            if (aIn != bIn)
            {
                double t = (NearPlane - a.Z) / (b.Z - a.Z);
                clipped.Add(ToFixed(ProjectCamera(a + (b - a) * t)));
            }
        }
        return clipped.Count >= 3 ? clipped.ToArray() : null;
    }
}
