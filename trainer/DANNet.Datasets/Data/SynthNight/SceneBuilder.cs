using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>Builds the scene objects SynthNight streets are made of, in world metres.</summary>
public static class SceneBuilder
{
    public static readonly Scalar Black = Scalar.All(0);
    private static readonly Scalar Glass = new(60, 50, 40);
    private static readonly Scalar Tyre = new(25, 25, 28);

    /// <summary>Light colours (BGR, linear, relative intensity) of the emitters in a night scene.</summary>
    public static readonly Scalar SodiumLamp = new(0.35, 0.75, 1.0);
    public static readonly Scalar LedLamp = new(1.0, 0.95, 0.85);
    public static readonly Scalar Headlight = new(0.95, 0.97, 1.0);
    public static readonly Scalar TailLight = new(0.05, 0.05, 1.0);
    public static readonly Scalar WindowLight = new(0.45, 0.75, 1.0);

    public static Scalar Shade(Scalar c, double f) => new(Math.Min(255, c.Val0 * f), Math.Min(255, c.Val1 * f), Math.Min(255, c.Val2 * f));

    public static Scalar Jitter(StreamRandom rng, Scalar c, double amount)
    {
        double f = 1 + rng.Uniform(-amount, amount);
        return new(Math.Clamp(c.Val0 * f + rng.Uniform(-8, 8), 0, 255), Math.Clamp(c.Val1 * f + rng.Uniform(-8, 8), 0, 255), Math.Clamp(c.Val2 * f + rng.Uniform(-8, 8), 0, 255));
    }

    /// <summary>Shading of the faces of a box under the day sky, with the sun on the left or the right.</summary>
    public sealed record Shading(double Front, double Back, double Left, double Right, double Top)
    {
        public static Shading Sun(bool fromLeft) => fromLeft ? new(0.92, 0.6, 0.7, 1.0, 1.12) : new(0.92, 0.6, 1.0, 0.7, 1.12);
    }

    /// <summary>The five visible-candidate faces of an axis-aligned box (no bottom).</summary>
    public static void AddBox(List<ScenePart> parts, Vec3 min, Vec3 max, byte label, Scalar colour, Shading shade)
    {
        double x0 = min.X, y0 = min.Y, z0 = min.Z, x1 = max.X, y1 = max.Y, z1 = max.Z;
        parts.Add(new PolygonPart([new(x0, y0, z0), new(x1, y0, z0), new(x1, y1, z0), new(x0, y1, z0)], new(0, 0, -1), label, Shade(colour, shade.Front)));
        parts.Add(new PolygonPart([new(x0, y0, z1), new(x1, y0, z1), new(x1, y1, z1), new(x0, y1, z1)], new(0, 0, 1), label, Shade(colour, shade.Back)));
        parts.Add(new PolygonPart([new(x0, y0, z0), new(x0, y0, z1), new(x0, y1, z1), new(x0, y1, z0)], new(-1, 0, 0), label, Shade(colour, shade.Left)));
        parts.Add(new PolygonPart([new(x1, y0, z0), new(x1, y0, z1), new(x1, y1, z1), new(x1, y1, z0)], new(1, 0, 0), label, Shade(colour, shade.Right)));
        parts.Add(new PolygonPart([new(x0, y1, z0), new(x1, y1, z0), new(x1, y1, z1), new(x0, y1, z1)], new(0, 1, 0), label, Shade(colour, shade.Top)));
    }

    /// <summary>A rectangle on the plane x = <paramref name="x"/> facing along <paramref name="nx"/> (±1).</summary>
    public static PolygonPart SideRect(double x, double nx, double z0, double z1, double y0, double y1, byte label, Scalar colour, Scalar emissive = default) =>
        new([new(x, y0, z0), new(x, y0, z1), new(x, y1, z1), new(x, y1, z0)], new(nx, 0, 0), label, colour, emissive);

    /// <summary>A rectangle on the plane z = <paramref name="z"/> facing along <paramref name="nz"/> (±1).</summary>
    public static PolygonPart EndRect(double z, double nz, double x0, double x1, double y0, double y1, byte label, Scalar colour, Scalar emissive = default) =>
        new([new(x0, y0, z), new(x1, y0, z), new(x1, y1, z), new(x0, y1, z)], new(0, 0, nz), label, colour, emissive);

    /// <summary>A flat rectangle on the ground (y slightly above 0 so painted marks sit on top).</summary>
    public static PolygonPart GroundRect(double x0, double x1, double z0, double z1, byte label, Scalar colour, double y = 0, bool paintOnly = false) =>
        new([new(x0, y, z0), new(x1, y, z0), new(x1, y, z1), new(x0, y, z1)], new(0, 1, 0), label, colour, default, paintOnly);

    /// <summary>
    /// A building block with a window grid on the faces that look at the street and along it.
    /// <paramref name="litFraction"/> of the windows glow at night.
    /// </summary>
    public static SceneObject Building(StreamRandom rng, Vec3 min, Vec3 max, Scalar facade, Shading shade, double litFraction, bool streetOnRight)
    {
        var parts = new List<ScenePart>();
        AddBox(parts, min, max, LabelIds.Building, facade, shade);
        double floor = rng.Uniform(2.9, 3.6), bay = rng.Uniform(2.4, 3.6);
        double winW = bay * rng.Uniform(0.35, 0.6), winH = floor * rng.Uniform(0.4, 0.6);
        var glass = Jitter(rng, Glass, 0.2);
        var frame = Shade(facade, 0.75);
        bool shopFront = rng.Chance(0.5);
        // The facade along the street: x = max.X for buildings on the left, min.X on the right.
        double fx = streetOnRight ? max.X + 0.02 : min.X - 0.02, nx = streetOnRight ? 1 : -1;
        for (double y = shopFront ? floor * 1.2 : 1.0; y + winH < max.Y - 0.5; y += floor)
            for (double z = min.Z + bay * 0.5; z + winW < max.Z - 0.3; z += bay)
                AddWindow(parts, rng, fx, nx, z, z + winW, y, y + winH, glass, frame, litFraction);
        if (shopFront)
            for (double z = min.Z + 1; z + 3 < max.Z - 0.5; z += rng.Uniform(4, 7))
                AddWindow(parts, rng, fx, nx, z, z + rng.Uniform(2, 3), 0.4, floor * 0.9, glass, frame, litFraction * 1.5);
        // The end wall that faces the camera (visible at corners and gaps).
        for (double y = 1.0; y + winH < max.Y - 0.5; y += floor)
            for (double x = min.X + bay * 0.5; x + winW < max.X - 0.3; x += bay)
                if (rng.Chance(0.7))
                {
                    bool lit = rng.Chance(litFraction);
                    parts.Add(EndRect(min.Z - 0.02, -1, x, x + winW, y, y + winH, LabelIds.Building, glass, lit ? Scale(WindowLight, rng.Uniform(0.12, 0.45)) : default));
                }
        return new SceneObject(SceneLayer.Backdrop, new Vec3((min.X + max.X) / 2, 0, min.Z), parts);
    }

    private static void AddWindow(List<ScenePart> parts, StreamRandom rng, double fx, double nx, double z0, double z1, double y0, double y1, Scalar glass, Scalar frame, double litFraction)
    {
        parts.Add(SideRect(fx, nx, z0 - 0.12, z1 + 0.12, y0 - 0.12, y1 + 0.12, LabelIds.Building, frame));
        bool lit = rng.Chance(litFraction);
        var emissive = lit ? Scale(WindowLight, rng.Uniform(0.12, 0.45)) : default;
        parts.Add(SideRect(fx + nx * 0.01, nx, z0, z1, y0, y1, LabelIds.Building, Jitter(rng, glass, 0.15), emissive));
    }

    public static Scalar Scale(Scalar c, double f) => new(c.Val0 * f, c.Val1 * f, c.Val2 * f);

    /// <summary>A wall (concrete or brick) along the street edge.</summary>
    public static SceneObject Wall(StreamRandom rng, double x0, double x1, double z0, double z1, double height, Shading shade)
    {
        var parts = new List<ScenePart>();
        var colour = rng.Chance(0.5) ? Jitter(rng, new Scalar(150, 155, 160), 0.1) : Jitter(rng, new Scalar(70, 90, 150), 0.15);
        AddBox(parts, new(x0, 0, z0), new(x1, height, z1), LabelIds.Wall, colour, shade);
        // Coping stones on top: a darker band, same label.
        parts.Add(new PolygonPart([new(x0, height, z0), new(x1, height, z0), new(x1, height, z1), new(x0, height, z1)], new(0, 1, 0), LabelIds.Wall, Shade(colour, 0.8)));
        return new SceneObject(SceneLayer.Backdrop, new Vec3((x0 + x1) / 2, 0, z0), parts);
    }

    /// <summary>A fence of posts and slats along the street edge; the whole fence area is labelled fence.</summary>
    public static SceneObject Fence(StreamRandom rng, double x, double nx, double z0, double z1, double height)
    {
        var parts = new List<ScenePart>();
        var colour = rng.Chance(0.5) ? Jitter(rng, new Scalar(80, 110, 130), 0.15) : Jitter(rng, new Scalar(110, 120, 105), 0.15);
        parts.Add(SideRect(x, nx, z0, z1, 0, height, LabelIds.Fence, colour));
        parts.Add(EndRect(z0, -1, x - 0.05, x + 0.05, 0, height, LabelIds.Fence, colour));
        double step = rng.Uniform(0.15, 0.3);
        var slat = Shade(colour, 0.65);
        for (double z = z0 + step / 2; z < z1; z += step)
            parts.Add(SideRect(x + nx * 0.01, nx, z, z + step * 0.3, 0.05, height - 0.05, LabelIds.Fence, slat));
        for (double z = z0; z < z1; z += 2.5)
            parts.Add(SideRect(x + nx * 0.02, nx, z, z + 0.1, 0, height + 0.1, LabelIds.Fence, Shade(colour, 0.5)));
        return new SceneObject(SceneLayer.Backdrop, new Vec3(x, 0, z0), parts);
    }

    /// <summary>A hedge: a green box with a bumpy top.</summary>
    public static SceneObject Hedge(StreamRandom rng, double x0, double x1, double z0, double z1, double height, Shading shade)
    {
        var parts = new List<ScenePart>();
        var green = Jitter(rng, new Scalar(40, 105, 55), 0.2);
        AddBox(parts, new(x0, 0, z0), new(x1, height, z1), LabelIds.Vegetation, green, shade);
        for (double z = z0; z < z1; z += rng.Uniform(0.6, 1.2))
            parts.Add(new BillboardPart(new Vec3((x0 + x1) / 2, height, z), [new EllipseShape(0, 0, 0.6, 0.35, LabelIds.Vegetation, Jitter(rng, green, 0.15))]));
        return new SceneObject(SceneLayer.Backdrop, new Vec3((x0 + x1) / 2, 0, z0), parts);
    }

    /// <summary>A tree: trunk and a crown of overlapping blobs (all vegetation, as in Cityscapes).</summary>
    public static SceneObject Tree(StreamRandom rng, Vec3 foot, SceneLayer layer = SceneLayer.Objects)
    {
        double h = rng.Uniform(4, 9), r = rng.Uniform(1.5, 3.2);
        var bark = Jitter(rng, new Scalar(40, 55, 70), 0.2);
        var leaves = Jitter(rng, new Scalar(35, 95, 50), 0.25);
        var shapes = new List<Shape2D> { new PolygonShape([-0.15, 0, 0.15, 0, 0.1, h - r * 0.5, -0.1, h - r * 0.5], LabelIds.Vegetation, bark) };
        int blobs = rng.Int(4, 8);
        for (int i = 0; i < blobs; i++)
            shapes.Add(new EllipseShape(rng.Uniform(-r, r) * 0.6, h - r + rng.Uniform(-r, r) * 0.5, r * rng.Uniform(0.45, 0.8), r * rng.Uniform(0.4, 0.7),
                LabelIds.Vegetation, Jitter(rng, leaves, 0.2)));
        return new SceneObject(layer, foot, [new BillboardPart(foot, shapes)]);
    }

    /// <summary>A street lamp on a pole with an arm over the road; its light is a <see cref="LightPart"/>.</summary>
    public static SceneObject StreetLamp(StreamRandom rng, Vec3 foot, double armDirection, Scalar lampLight, double intensity)
    {
        double h = rng.Uniform(6, 9), arm = rng.Uniform(1.0, 2.2) * armDirection;
        var metal = Jitter(rng, new Scalar(105, 105, 100), 0.2);
        var shapes = new List<Shape2D>
        {
            new LineShape(0, 0, 0, h, 0.16, LabelIds.Pole, metal),
            new LineShape(0, h - 0.1, arm, h, 0.09, LabelIds.Pole, metal),
            new PolygonShape([arm - 0.4, h + 0.05, arm + 0.4, h + 0.05, arm + 0.3, h - 0.15, arm - 0.3, h - 0.15], LabelIds.Pole, Shade(metal, 0.7), Scale(lampLight, 3.0 * intensity)),
        };
        var head = new Vec3(foot.X + arm, h - 0.2, foot.Z);
        var parts = new List<ScenePart>
        {
            new BillboardPart(foot, shapes),
            new LightPart(head, new Vec3(head.X, 0, head.Z), 6.5, 6.5, Scale(lampLight, intensity), 0.05, 0.8),
        };
        return new SceneObject(SceneLayer.Objects, foot, parts);
    }

    /// <summary>A traffic sign on a pole: round, triangular or rectangular plate.</summary>
    public static SceneObject TrafficSign(StreamRandom rng, Vec3 foot)
    {
        double h = rng.Uniform(2.2, 3.0), s = rng.Uniform(0.3, 0.45);
        var metal = new Scalar(130, 130, 125);
        var shapes = new List<Shape2D> { new LineShape(0, 0, 0, h, 0.07, LabelIds.Pole, metal) };
        switch (rng.Int(0, 3))
        {
            case 0:
                shapes.Add(new EllipseShape(0, h, s, s, LabelIds.TrafficSign, new Scalar(30, 30, 200)));
                shapes.Add(new EllipseShape(0, h, s * 0.75, s * 0.75, LabelIds.TrafficSign, new Scalar(235, 235, 235)));
                break;
            case 1:
                shapes.Add(new PolygonShape([-s, h - s * 0.6, s, h - s * 0.6, 0, h + s * 0.9], LabelIds.TrafficSign, new Scalar(30, 30, 200)));
                shapes.Add(new PolygonShape([-s * 0.65, h - s * 0.4, s * 0.65, h - s * 0.4, 0, h + s * 0.55], LabelIds.TrafficSign, new Scalar(235, 235, 235)));
                break;
            default:
                shapes.Add(new PolygonShape([-s, h - s * 0.7, s, h - s * 0.7, s, h + s * 0.7, -s, h + s * 0.7], LabelIds.TrafficSign,
                    rng.Chance(0.5) ? new Scalar(160, 80, 20) : new Scalar(40, 120, 30)));
                shapes.Add(new PolygonShape([-s * 0.8, h - s * 0.1, s * 0.8, h - s * 0.1, s * 0.8, h + s * 0.1, -s * 0.8, h + s * 0.1], LabelIds.TrafficSign, new Scalar(235, 235, 235)));
                break;
        }
        return new SceneObject(SceneLayer.Objects, foot, [new BillboardPart(foot, shapes)]);
    }

    /// <summary>A traffic light: pole and a housing with three lamps, one lit.</summary>
    public static SceneObject TrafficLight(StreamRandom rng, Vec3 foot, double armDirection)
    {
        double h = rng.Uniform(3.0, 4.5), arm = rng.Chance(0.4) ? rng.Uniform(2, 4) * armDirection : 0;
        var metal = new Scalar(70, 75, 70);
        var housing = new Scalar(35, 35, 35);
        int active = rng.Int(0, 3);
        Scalar[] lamps = [new(30, 30, 255), new(30, 190, 255), new(90, 230, 40)];
        var shapes = new List<Shape2D> { new LineShape(0, 0, 0, h, 0.13, LabelIds.Pole, metal) };
        if (arm != 0) shapes.Add(new LineShape(0, h, arm, h, 0.1, LabelIds.Pole, metal));
        double cx = arm;
        shapes.Add(new PolygonShape([cx - 0.2, h - 0.05, cx + 0.2, h - 0.05, cx + 0.2, h + 0.95, cx - 0.2, h + 0.95], LabelIds.TrafficLight, housing));
        for (int i = 0; i < 3; i++)
        {
            bool on = i == active;
            var lamp = on ? lamps[i] : Shade(lamps[i], 0.25);
            var glow = on ? new Scalar(lamps[i].Val0 / 255 * 3, lamps[i].Val1 / 255 * 3, lamps[i].Val2 / 255 * 3) : default;
            shapes.Add(new EllipseShape(cx, h + 0.78 - i * 0.3, 0.11, 0.11, LabelIds.TrafficLight, lamp, glow));
        }
        return new SceneObject(SceneLayer.Objects, foot, [new BillboardPart(foot, shapes)]);
    }

    /// <summary>A pedestrian or (with <paramref name="label"/> = rider) a cyclist's body, about 1.6–1.9 m tall.</summary>
    public static List<Shape2D> Figure(StreamRandom rng, byte label, double baseY, bool seated)
    {
        double h = rng.Uniform(1.6, 1.9), w = h * 0.26;
        var skin = Jitter(rng, rng.Pick(SkinTones), 0.1);
        var top = Jitter(rng, rng.Pick(Clothes), 0.3);
        var legs = Jitter(rng, rng.Pick(Clothes), 0.3);
        double hip = baseY + (seated ? 0.0 : h * 0.47), shoulder = hip + h * 0.33;
        double stride = seated ? 0 : rng.Uniform(-0.25, 0.25);
        var shapes = new List<Shape2D>();
        if (!seated)
        {
            shapes.Add(new PolygonShape([-w * 0.45 + stride, baseY, -w * 0.05 + stride, baseY, 0, hip, -w * 0.45, hip], label, legs));
            shapes.Add(new PolygonShape([w * 0.05 - stride, baseY, w * 0.45 - stride, baseY, w * 0.45, hip, 0, hip], label, Shade(legs, 0.85)));
        }
        else
        {
            shapes.Add(new PolygonShape([-w * 0.4, hip - 0.5, -w * 0.1, hip - 0.5, 0, hip + 0.1, -w * 0.45, hip + 0.1], label, legs));
        }
        shapes.Add(new PolygonShape([-w * 0.5, hip, w * 0.5, hip, w * 0.55, shoulder, -w * 0.55, shoulder], label, top));
        shapes.Add(new PolygonShape([-w * 0.55, shoulder, -w * 0.75, hip + 0.05, -w * 0.6, hip, -w * 0.42, shoulder - 0.05], label, Shade(top, 0.8)));
        shapes.Add(new PolygonShape([w * 0.55, shoulder, w * 0.75, hip + 0.05, w * 0.6, hip, w * 0.42, shoulder - 0.05], label, Shade(top, 0.8)));
        shapes.Add(new EllipseShape(0, shoulder + h * 0.09, h * 0.065, h * 0.085, label, skin));
        return shapes;
    }

    private static readonly Scalar[] SkinTones = [new(150, 180, 225), new(110, 140, 190), new(70, 95, 140), new(50, 65, 95)];
    private static readonly Scalar[] Clothes = [new(40, 40, 40), new(120, 60, 30), new(40, 40, 150), new(200, 200, 200), new(60, 110, 60), new(30, 30, 90), new(140, 120, 100), new(100, 40, 110)];

    public static SceneObject Pedestrian(StreamRandom rng, Vec3 foot) =>
        new(SceneLayer.Objects, foot, [new BillboardPart(foot, Figure(rng, LabelIds.Person, 0, false))]);

    /// <summary>A bicycle or motorcycle with its rider, seen from the side or from behind.</summary>
    public static SceneObject TwoWheeler(StreamRandom rng, Vec3 foot, bool motorcycle, bool sideView, bool night)
    {
        byte label = motorcycle ? LabelIds.Motorcycle : LabelIds.Bicycle;
        var frame = motorcycle ? Jitter(rng, rng.Pick(CarColours), 0.2) : Jitter(rng, rng.Pick(Clothes), 0.3);
        var shapes = new List<Shape2D>();
        double wheelR = motorcycle ? 0.32 : 0.34, seat = motorcycle ? 0.8 : 0.9;
        if (sideView)
        {
            double half = motorcycle ? 0.7 : 0.55;
            shapes.Add(new EllipseShape(-half, wheelR, wheelR, wheelR, label, Tyre));
            shapes.Add(new EllipseShape(half, wheelR, wheelR, wheelR, label, Tyre));
            shapes.Add(new EllipseShape(-half, wheelR, wheelR * 0.6, wheelR * 0.6, label, Shade(frame, 0.5)));
            shapes.Add(new EllipseShape(half, wheelR, wheelR * 0.6, wheelR * 0.6, label, Shade(frame, 0.5)));
            if (motorcycle)
                shapes.Add(new PolygonShape([-half, wheelR, half, wheelR, half * 0.7, seat, -half * 0.6, seat], label, frame));
            else
            {
                shapes.Add(new LineShape(-half, wheelR, 0, seat, 0.05, label, frame));
                shapes.Add(new LineShape(0, seat, half, wheelR, 0.05, label, frame));
                shapes.Add(new LineShape(-half, wheelR, half * 0.8, seat + 0.05, 0.05, label, frame));
            }
        }
        else
        {
            shapes.Add(new PolygonShape([-0.05, 0, 0.05, 0, 0.05, wheelR * 2, -0.05, wheelR * 2], label, Tyre));
            shapes.Add(new PolygonShape([-0.25, seat - 0.25, 0.25, seat - 0.25, 0.2, seat, -0.2, seat], label, frame));
            if (night) shapes.Add(new EllipseShape(0, seat - 0.3, 0.05, 0.04, label, new Scalar(30, 30, 200), Scale(TailLight, 2)));
        }
        shapes.AddRange(Figure(rng, LabelIds.Rider, seat - 0.05, true));
        return new SceneObject(SceneLayer.Objects, foot, [new BillboardPart(foot, shapes)]);
    }

    public static readonly Scalar[] CarColours =
        [new(200, 200, 200), new(30, 30, 30), new(120, 120, 120), new(40, 40, 160), new(150, 80, 30), new(60, 100, 40), new(170, 170, 170), new(20, 30, 60), new(200, 220, 230)];

    public enum VehicleKind { Car, Truck, Bus, Tram }

    /// <summary>
    /// A vehicle as boxes: body, cabin or cargo, glass, wheels and lights. <paramref name="oncoming"/>
    /// vehicles show their front (headlights) to the camera, the others their rear (tail lights).
    /// </summary>
    public static SceneObject Vehicle(StreamRandom rng, VehicleKind kind, double xCenter, double zNear, bool oncoming, bool lightsOn, Shading shade)
    {
        (byte label, double width, double length, double height) = kind switch
        {
            VehicleKind.Car => (LabelIds.Car, rng.Uniform(1.7, 1.9), rng.Uniform(3.8, 4.8), rng.Uniform(1.4, 1.6)),
            VehicleKind.Truck => (LabelIds.Truck, rng.Uniform(2.3, 2.5), rng.Uniform(6, 9), rng.Uniform(2.8, 3.6)),
            VehicleKind.Bus => (LabelIds.Bus, 2.5, rng.Uniform(10, 13), 3.1),
            _ => (LabelIds.Train, 2.4, rng.Uniform(18, 30), 3.4),
        };
        var paint = kind switch
        {
            VehicleKind.Bus => Jitter(rng, rng.Pick<Scalar>([new(40, 180, 230), new(200, 120, 30), new(40, 40, 190)]), 0.15),
            VehicleKind.Tram => Jitter(rng, rng.Pick<Scalar>([new(235, 235, 235), new(50, 50, 200), new(20, 160, 220)]), 0.1),
            _ => Jitter(rng, rng.Pick(CarColours), 0.15),
        };
        double x0 = xCenter - width / 2, x1 = xCenter + width / 2, z0 = zNear, z1 = zNear + length;
        var parts = new List<ScenePart>();
        double bodyTop = kind == VehicleKind.Car ? height * 0.6 : height;
        double clearance = kind == VehicleKind.Tram ? 0.35 : 0.3;
        // Wheels first: the body covers their upper half.
        foreach (double wz in kind == VehicleKind.Car ? [z0 + 0.8, z1 - 0.8] : (double[])[z0 + 1.3, z1 - 1.5])
        {
            parts.Add(SideRect(x0 - 0.01, -1, wz - 0.35, wz + 0.35, 0, 0.65, label, Tyre));
            parts.Add(SideRect(x1 + 0.01, 1, wz - 0.35, wz + 0.35, 0, 0.65, label, Tyre));
        }
        parts.Add(EndRect(z0 + 0.3, -1, x0 + 0.1, x0 + 0.35, 0, clearance, label, Tyre));
        parts.Add(EndRect(z0 + 0.3, -1, x1 - 0.35, x1 - 0.1, 0, clearance, label, Tyre));
        AddBox(parts, new(x0, clearance, z0), new(x1, bodyTop, z1), label, paint, shade);
        var glass = Jitter(rng, Glass, 0.15);
        double nz = -1; // the face towards the camera
        switch (kind)
        {
            case VehicleKind.Car:
            {
                double c0 = z0 + length * (oncoming ? 0.3 : 0.22), c1 = z1 - length * (oncoming ? 0.22 : 0.3);
                AddBox(parts, new(x0 + 0.1, bodyTop, c0), new(x1 - 0.1, height, c1), label, paint, shade);
                parts.Add(EndRect(c0 - 0.01, nz, x0 + 0.2, x1 - 0.2, bodyTop + 0.05, height - 0.08, label, glass));
                parts.Add(SideRect(x0 + 0.09, -1, c0 + 0.15, c1 - 0.15, bodyTop + 0.05, height - 0.1, label, glass));
                parts.Add(SideRect(x1 - 0.09, 1, c0 + 0.15, c1 - 0.15, bodyTop + 0.05, height - 0.1, label, glass));
                break;
            }
            case VehicleKind.Truck:
            {
                double cab = 2.2;
                parts.Add(EndRect(z0 - 0.01, nz, x0 + 0.15, x1 - 0.15, height * 0.55, height * 0.85, label, oncoming ? glass : Shade(paint, 0.8)));
                parts.Add(SideRect(x0 - 0.01, -1, oncoming ? z0 + 0.2 : z1 - cab, oncoming ? z0 + cab : z1 - 0.2, height * 0.55, height * 0.85, label, glass));
                parts.Add(SideRect(x1 + 0.01, 1, oncoming ? z0 + 0.2 : z1 - cab, oncoming ? z0 + cab : z1 - 0.2, height * 0.55, height * 0.85, label, glass));
                break;
            }
            default:
            {
                parts.Add(EndRect(z0 - 0.01, nz, x0 + 0.15, x1 - 0.15, height * 0.45, height * 0.9, label, glass));
                var windowLight = lightsOn ? Scale(WindowLight, 0.5) : default;
                for (double z = z0 + 1.2; z + 1.2 < z1; z += 1.6)
                {
                    parts.Add(SideRect(x0 - 0.01, -1, z, z + 1.3, height * 0.45, height * 0.85, label, glass, windowLight));
                    parts.Add(SideRect(x1 + 0.01, 1, z, z + 1.3, height * 0.45, height * 0.85, label, glass, windowLight));
                }
                break;
            }
        }
        // Lights on the face towards the camera.
        double ly0 = clearance + 0.25, ly1 = ly0 + (kind == VehicleKind.Car ? 0.15 : 0.25);
        var lampAlbedo = oncoming ? new Scalar(220, 225, 230) : new Scalar(30, 30, 170);
        var lampLight = oncoming ? Headlight : TailLight;
        double lampGlow = lightsOn ? (oncoming ? 6.0 : 2.0) : 0;
        parts.Add(EndRect(z0 - 0.02, nz, x0 + 0.1, x0 + 0.45, ly0, ly1, label, lampAlbedo, Scale(lampLight, lampGlow)));
        parts.Add(EndRect(z0 - 0.02, nz, x1 - 0.45, x1 - 0.1, ly0, ly1, label, lampAlbedo, Scale(lampLight, lampGlow)));
        if (!oncoming) parts.Add(EndRect(z0 - 0.02, nz, xCenter - 0.26, xCenter + 0.26, ly0 - 0.2, ly0 - 0.08, label, new Scalar(225, 225, 225)));
        if (lightsOn)
        {
            foreach (double lx in (ReadOnlySpan<double>)[x0 + 0.27, x1 - 0.27])
            {
                var source = new Vec3(lx, (ly0 + ly1) / 2, z0 - 0.05);
                parts.Add(oncoming
                    ? new LightPart(source, new Vec3(lx, 0, z0 - 9), 1.8, 9, Scale(Headlight, 0.35), 0.02, 0.45)
                    : new LightPart(source, new Vec3(lx, 0, z0 - 1), 0.8, 1.2, Scale(TailLight, 0.3), 0, 0.35));
            }
        }
        // Contact shadow under the body (colour only, it stays road).
        parts.Insert(0, GroundRect(x0 - 0.1, x1 + 0.1, z0 - 0.1, z1 + 0.1, LabelIds.Road, new Scalar(25, 25, 25), 0.005, paintOnly: true));
        return new SceneObject(SceneLayer.Objects, new Vec3(xCenter, 0, z0), parts);
    }
}
