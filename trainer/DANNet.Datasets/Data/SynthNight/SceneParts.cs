using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>One drawable piece of a scene object. Parts of an object are drawn in list order.</summary>
public abstract class ScenePart
{
    public abstract void Draw(RenderLayers layers, PinholeCamera camera);

    protected static Scalar Scale(Scalar c, double f) => new(c.Val0 * f, c.Val1 * f, c.Val2 * f, c.Val3 * f);
}

/// <summary>A planar world polygon with a label. Back faces (normal away from the camera) are skipped.</summary>
public sealed class PolygonPart(Vec3[] corners, Vec3 normal, byte labelId, Scalar albedo, Scalar emissive = default, bool paintOnly = false) : ScenePart
{
    public override void Draw(RenderLayers layers, PinholeCamera camera)
    {
        var toCamera = camera.Position - corners[0];
        if (normal.X * toCamera.X + normal.Y * toCamera.Y + normal.Z * toCamera.Z <= 0) return;
        var poly = camera.ProjectPolygon(corners);
        if (poly is null) return;
        if (paintOnly) layers.Paint(poly, albedo);
        else layers.Fill(poly, labelId, albedo, emissive);
    }
}

/// <summary>A 2-D shape in metres, drawn upright facing the camera at an anchor point (x right, y up).</summary>
public abstract record Shape2D(byte LabelId, Scalar Albedo, Scalar Emissive);

public sealed record PolygonShape(double[] Xy, byte LabelId, Scalar Albedo, Scalar Emissive = default) : Shape2D(LabelId, Albedo, Emissive);

public sealed record EllipseShape(double Cx, double Cy, double Rx, double Ry, byte LabelId, Scalar Albedo, Scalar Emissive = default) : Shape2D(LabelId, Albedo, Emissive);

public sealed record LineShape(double X0, double Y0, double X1, double Y1, double Width, byte LabelId, Scalar Albedo) : Shape2D(LabelId, Albedo, default);

/// <summary>Upright figures (people, riders, bicycles, trees, poles, signs) as camera-facing sprites.</summary>
public sealed class BillboardPart(Vec3 anchor, IReadOnlyList<Shape2D> shapes) : ScenePart
{
    public override void Draw(RenderLayers layers, PinholeCamera camera)
    {
        double s = camera.Scale(anchor);
        if (s <= 0 || !camera.TryProject(anchor, out var p0)) return;
        Point Px(double x, double y) => PinholeCamera.ToFixed(new Point2d(p0.X + s * x, p0.Y - s * y));
        foreach (var shape in shapes)
        {
            switch (shape)
            {
                case PolygonShape p:
                    var pts = new Point[p.Xy.Length / 2];
                    for (int i = 0; i < pts.Length; i++) pts[i] = Px(p.Xy[2 * i], p.Xy[2 * i + 1]);
                    layers.Fill(pts, p.LabelId, p.Albedo, p.Emissive);
                    break;
                case EllipseShape e:
                    var axes = new Size(Math.Max(1, (int)(s * e.Rx * 16)), Math.Max(1, (int)(s * e.Ry * 16)));
                    layers.FillEllipse(Px(e.Cx, e.Cy), axes, 0, e.LabelId, e.Albedo, e.Emissive);
                    break;
                case LineShape l:
                    layers.Line(Px(l.X0, l.Y0), Px(l.X1, l.Y1), (int)Math.Round(s * l.Width), l.LabelId, l.Albedo);
                    break;
            }
        }
    }
}

/// <summary>
/// A light source mounted at <paramref name="source"/>: it lights a pool on the ground around
/// <paramref name="poolCenter"/> (falling off towards the rim) and, with haze, shows a cone of light
/// in the air between source and pool. Glare is a soft disc around the source itself.
/// </summary>
public sealed class LightPart(Vec3 source, Vec3 poolCenter, double poolRadiusX, double poolRadiusZ, Scalar light, double haze, double glareRadius) : ScenePart
{
    private const int RimPoints = 20;

    public override void Draw(RenderLayers layers, PinholeCamera camera)
    {
        foreach (double f in (ReadOnlySpan<double>)[1.0, 0.65, 0.35])
        {
            var rim = GroundEllipse(poolRadiusX * f, poolRadiusZ * f);
            var poly = camera.ProjectPolygon(rim);
            if (poly is not null) layers.AddLightPool(poly, Scale(light, 1.0 / 3));
        }

        if (!camera.TryProject(source, out var head)) return;
        if (haze > 0)
        {
            var rimPoly = camera.ProjectPolygon(GroundEllipse(poolRadiusX * 0.8, poolRadiusZ * 0.8));
            if (rimPoly is not null)
            {
                var cone = Cv2.ConvexHull(rimPoly.Append(PinholeCamera.ToFixed(head)).ToArray());
                layers.AddHaze(cone, Scale(light, haze));
            }
        }
        if (glareRadius > 0)
        {
            double r = camera.Scale(source) * glareRadius;
            var disc = new Point[RimPoints];
            for (int i = 0; i < RimPoints; i++)
            {
                (double sin, double cos) = Math.SinCos(2 * Math.PI * i / RimPoints);
                disc[i] = PinholeCamera.ToFixed(new Point2d(head.X + r * cos, head.Y + r * sin));
            }
            layers.AddHaze(disc, Scale(light, 0.25));
        }
    }

    private Vec3[] GroundEllipse(double rx, double rz)
    {
        var rim = new Vec3[RimPoints];
        for (int i = 0; i < RimPoints; i++)
        {
            (double sin, double cos) = Math.SinCos(2 * Math.PI * i / RimPoints);
            rim[i] = new Vec3(poolCenter.X + rx * cos, 0.01, poolCenter.Z + rz * sin);
        }
        return rim;
    }
}

/// <summary>What a scene object is for drawing order: ground first, then the backdrop, then objects.</summary>
public enum SceneLayer { Ground = 0, Backdrop = 1, Objects = 2 }

/// <summary>A scene object: parts drawn in order, placed in the painter's order by the depth of its anchor.</summary>
public sealed class SceneObject(SceneLayer layer, Vec3 anchor, List<ScenePart> parts)
{
    public SceneLayer Layer { get; } = layer;
    public Vec3 Anchor { get; } = anchor;
    public List<ScenePart> Parts { get; } = parts;
}
