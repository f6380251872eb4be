using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>
/// Draws a street scene into <see cref="RenderLayers"/> with the painter's algorithm: sky, ground,
/// backdrop (frontage, far to near), then objects far to near. Labels come from the same polygons
/// as the colours, drawn without anti-aliasing, so every pixel carries exactly one labelId.
/// </summary>
public static class SceneRenderer
{
    private const double FarCull = 500, NearCull = -60;

    public static void Render(RenderLayers layers, PinholeCamera camera, StreetWorld world, IReadOnlyList<SceneObject> dynamic, bool egoHood, bool egoHeadlights)
    {
        DrawSky(layers, camera);
        foreach (var o in world.Ground) Draw(o, layers, camera);

        var visible = world.Static.Concat(dynamic)
            .Select(o => (Object: o, Depth: camera.Depth(o.Anchor)))
            .Where(t => t.Depth is > NearCull and < FarCull)
            .OrderBy(t => t.Object.Layer).ThenByDescending(t => t.Depth);
        foreach (var (o, _) in visible) Draw(o, layers, camera);

        if (egoHeadlights)
        {
            var p = camera.Position;
            new LightPart(new Vec3(p.X, 0.7, p.Z + 1.5), new Vec3(p.X, 0, p.Z + 14), 3.5, 12, SceneBuilder.Scale(SceneBuilder.Headlight, 0.3), 0, 0).Draw(layers, camera);
        }
        if (egoHood) DrawEgoHood(layers);
    }

    private static void Draw(SceneObject o, RenderLayers layers, PinholeCamera camera)
    {
        foreach (var part in o.Parts) part.Draw(layers, camera);
    }

    private static void DrawSky(RenderLayers layers, PinholeCamera camera)
    {
        layers.Label.SetTo(Scalar.All(LabelIds.Sky));
        using var sky = Gradients.Vertical(layers.Width, layers.Height, MatType.CV_8UC3, new Scalar(205, 150, 95), new Scalar(235, 222, 205), Math.Max(1, camera.HorizonRow), 1.6);
        sky.CopyTo(layers.Albedo);
    }

    /// <summary>The bonnet of the recording car at the bottom of the frame (labelId 1, ignored in training).</summary>
    private static void DrawEgoHood(RenderLayers layers)
    {
        int w = layers.Width, h = layers.Height;
        var centre = PinholeCamera.ToFixed(new Point2d(w / 2.0, h * 1.12));
        var axes = new Size((int)(w * 0.75 * 16), (int)(h * 0.2 * 16));
        layers.FillEllipse(centre, axes, 0, LabelIds.EgoVehicle, new Scalar(40, 38, 35));
        var shine = PinholeCamera.ToFixed(new Point2d(w / 2.0, h * 1.1));
        Cv2.Ellipse(layers.Albedo, shine, new Size((int)(w * 0.45 * 16), (int)(h * 0.14 * 16)), 0, 180, 360, new Scalar(90, 85, 80), Math.Max(1, h / 200), LineTypes.AntiAlias, PinholeCamera.Shift);
    }
}
