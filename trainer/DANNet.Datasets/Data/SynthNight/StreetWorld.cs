using OpenCvSharp;
using static DANNet.Trainer.Data.SynthNight.SceneBuilder;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>
/// The static part of one street: road, lanes and markings, sidewalks, frontage (buildings, walls,
/// fences, parks), street furniture and intersections. Generated once per street from a seed, so
/// the day and night drives of a Dark Zurich-style sequence see exactly the same places.
/// </summary>
public sealed class StreetWorld
{
    public required int Lanes { get; init; }
    public required double LaneWidth { get; init; }
    public required double SidewalkWidth { get; init; }
    public required bool ParkingLanes { get; init; }
    public required double Start { get; init; }
    public required double End { get; init; }
    public required Scalar LampLight { get; init; }
    public required Shading Shade { get; init; }
    public required IReadOnlyList<(double Z0, double Z1)> Intersections { get; init; }
    public required IReadOnlyList<SceneObject> Ground { get; init; }
    public required IReadOnlyList<SceneObject> Static { get; init; }

    public double RoadHalfWidth => Lanes * LaneWidth / 2;

    public bool InIntersection(double z, double margin = 0) => Intersections.Any(i => z > i.Z0 - margin && z < i.Z1 + margin);

    /// <summary>Generates a street that covers z in [-40, <paramref name="length"/> + 160].</summary>
    public static StreetWorld Generate(StreamRandom rng, double length, double litFraction)
    {
        int lanes = rng.Int(2, 5);
        double laneWidth = rng.Uniform(3.0, 3.6), sidewalk = rng.Uniform(2.2, 4.8);
        double half = lanes * laneWidth / 2, outer = half + sidewalk;
        double start = -40, end = length + 160;
        var shade = Shading.Sun(rng.Chance(0.5));
        var lampLight = rng.Chance(0.55) ? SodiumLamp : LedLamp;

        var intersections = new List<(double Z0, double Z1)>();
        for (double z = rng.Uniform(20, 90); z < end - 30; z += rng.Uniform(70, 150))
            intersections.Add((z, z + rng.Uniform(10, 16)));

        var ground = new List<SceneObject>();
        var groundParts = new List<ScenePart>
        {
            GroundRect(-400, 400, start, end + 600, LabelIds.Terrain, Jitter(rng, new Scalar(60, 95, 85), 0.15)),
            GroundRect(-half, half, start, end + 600, LabelIds.Road, Jitter(rng, new Scalar(85, 85, 88), 0.12)),
        };
        var asphalt = Jitter(rng, new Scalar(85, 85, 88), 0.1);
        for (int i = 0; i < (int)(end - start) / 6; i++)
        {
            double px = rng.Uniform(-half, half - 1), pz = rng.Uniform(start, end);
            groundParts.Add(GroundRect(px, px + rng.Uniform(0.5, 3), pz, pz + rng.Uniform(0.5, 6), LabelIds.Road, Jitter(rng, asphalt, 0.2), 0.002, paintOnly: true));
        }
        var paving = Jitter(rng, rng.Pick<Scalar>([new(150, 155, 160), new(120, 130, 150), new(135, 135, 135)]), 0.1);
        var kerb = Shade(paving, 0.8);
        foreach (int side in (ReadOnlySpan<int>)[-1, 1])
        {
            double a = side * half, b = side * outer;
            double prev = start;
            foreach (var (z0, z1) in intersections.Append((Z0: end + 600, Z1: end + 601)))
            {
                groundParts.Add(GroundRect(Math.Min(a, b), Math.Max(a, b), prev, z0, LabelIds.Sidewalk, paving, 0.001));
                groundParts.Add(GroundRect(Math.Min(a, a + side * 0.25), Math.Max(a, a + side * 0.25), prev, z0, LabelIds.Sidewalk, kerb, 0.0015));
                prev = z1;
            }
        }
        foreach (var (z0, z1) in intersections)
        {
            groundParts.Add(GroundRect(-400, 400, z0, z1, LabelIds.Road, asphalt, 0.001));
            for (double x = -half + 0.3; x < half - 0.5; x += 1.0)
                groundParts.Add(GroundRect(x, x + 0.5, z0 - 4, z0 - 1, LabelIds.Road, new Scalar(200, 205, 205), 0.003, paintOnly: true));
            groundParts.Add(GroundRect(0, half, z0 - 5.6, z0 - 5.2, LabelIds.Road, new Scalar(210, 215, 215), 0.003, paintOnly: true));
        }
        // Lane markings: dashed dividers, a solid or double centre line, edge lines.
        var white = new Scalar(205, 210, 210);
        for (int l = 1; l < lanes; l++)
        {
            double x = -half + l * laneWidth;
            bool centre = Math.Abs(x) < 0.01;
            for (double z = start; z < end + 300; z += centre ? 4 : 12)
                if (!intersections.Any(i => z + 6 > i.Z0 - 5 && z < i.Z1))
                    groundParts.Add(GroundRect(x - 0.07, x + 0.07, z, z + (centre ? 4 : 5), LabelIds.Road, white, 0.003, paintOnly: true));
        }
        foreach (int side in (ReadOnlySpan<int>)[-1, 1])
            groundParts.Add(GroundRect(side * half - 0.45 - 0.06, side * half - 0.45 + 0.06, start, end + 300, LabelIds.Road, white, 0.003, paintOnly: true));
        ground.Add(new SceneObject(SceneLayer.Ground, new Vec3(0, 0, start), groundParts));

        var statics = new List<SceneObject>();
        foreach (int side in (ReadOnlySpan<int>)[-1, 1])
        {
            AddFrontage(rng, statics, ground, side, outer, start, end, intersections, shade, litFraction);
            AddFurniture(rng, statics, side, half, sidewalk, start, end, intersections, lampLight);
        }
        AddSkyline(rng, statics, end + 40, shade, litFraction);

        return new StreetWorld
        {
            Lanes = lanes, LaneWidth = laneWidth, SidewalkWidth = sidewalk, ParkingLanes = lanes >= 3 && rng.Chance(0.6),
            Start = start, End = end, LampLight = lampLight, Shade = shade,
            Intersections = intersections, Ground = ground, Static = statics,
        };
    }

    private enum Frontage { Building, WallAndBuilding, FenceAndTrees, Park, SetBackBuilding }

    private static void AddFrontage(StreamRandom rng, List<SceneObject> statics, List<SceneObject> ground, int side, double outer,
        double start, double end, List<(double Z0, double Z1)> intersections, Shading shade, double litFraction)
    {
        double z = start;
        bool streetOnRight = side < 0; // a building on the left has the street on its right
        while (z < end)
        {
            var next = intersections.FirstOrDefault(i => i.Z1 > z && i.Z0 < z + 1);
            if (next != default) { z = next.Z1; continue; }
            double limit = intersections.Where(i => i.Z0 >= z).Select(i => i.Z0).DefaultIfEmpty(end).Min();
            double len = Math.Min(rng.Uniform(8, 32), limit - z);
            if (len < 3) { z = limit; continue; }
            double z0 = z, z1 = z + len;
            var kind = rng.NextDouble() switch
            {
                < 0.45 => Frontage.Building,
                < 0.58 => Frontage.WallAndBuilding,
                < 0.72 => Frontage.FenceAndTrees,
                < 0.86 => Frontage.Park,
                _ => Frontage.SetBackBuilding,
            };
            double setback = kind switch { Frontage.Building => rng.Uniform(0, 0.8), Frontage.WallAndBuilding or Frontage.SetBackBuilding => rng.Uniform(3, 7), _ => 0 };
            if (kind is Frontage.WallAndBuilding or Frontage.SetBackBuilding or Frontage.Park or Frontage.FenceAndTrees)
            {
                double g0 = side * outer, g1 = side * (outer + 30);
                ground.Add(new SceneObject(SceneLayer.Ground, new Vec3(g0, 0, z0), [GroundRect(Math.Min(g0, g1), Math.Max(g0, g1), z0, z1,
                    LabelIds.Terrain, Jitter(rng, new Scalar(70, 150, 115), 0.2), 0.0008)]));
            }
            if (kind is Frontage.Building or Frontage.WallAndBuilding or Frontage.SetBackBuilding)
            {
                double depth = rng.Uniform(10, 20), height = rng.Uniform(7, 26);
                double xa = side * (outer + setback), xb = side * (outer + setback + depth);
                var facade = Jitter(rng, rng.Pick(Facades), 0.12);
                statics.Add(Building(rng, new Vec3(Math.Min(xa, xb), 0, z0 + rng.Uniform(0, 0.6)), new Vec3(Math.Max(xa, xb), height, z1), facade, shade, litFraction, streetOnRight));
            }
            if (kind == Frontage.WallAndBuilding)
            {
                double h = rng.Uniform(1.2, 2.8), xa = side * outer, xb = side * (outer + 0.3);
                statics.Add(Wall(rng, Math.Min(xa, xb), Math.Max(xa, xb), z0, z1, h, shade));
            }
            if (kind is Frontage.FenceAndTrees or Frontage.Park)
            {
                for (double tz = z0 + rng.Uniform(1, 4); tz < z1; tz += rng.Uniform(3, 8))
                    statics.Add(Tree(rng, new Vec3(side * (outer + rng.Uniform(2, 12)), 0, tz), SceneLayer.Backdrop));
                if (kind == Frontage.Park && rng.Chance(0.5))
                {
                    double xa = side * (outer + 0.2), xb = side * (outer + 1.2);
                    statics.Add(Hedge(rng, Math.Min(xa, xb), Math.Max(xa, xb), z0, z1, rng.Uniform(0.8, 1.6), shade));
                }
                if (kind == Frontage.FenceAndTrees)
                    statics.Add(Fence(rng, side * (outer + 0.1), -side, z0, z1, rng.Uniform(1.0, 2.0)));
                if (rng.Chance(0.6))
                {
                    double xa = side * (outer + 14), xb = side * (outer + 28);
                    statics.Add(Building(rng, new Vec3(Math.Min(xa, xb), 0, z0), new Vec3(Math.Max(xa, xb), rng.Uniform(10, 25), z1),
                        Jitter(rng, rng.Pick(Facades), 0.12), shade, litFraction, streetOnRight));
                }
            }
            z = z1 + (rng.Chance(0.2) ? rng.Uniform(0.5, 2) : 0);
        }
    }

    private static void AddFurniture(StreamRandom rng, List<SceneObject> statics, int side, double half, double sidewalk,
        double start, double end, List<(double Z0, double Z1)> intersections, Scalar lampLight)
    {
        double lampIntensity = rng.Uniform(0.35, 0.7);
        for (double z = start + rng.Uniform(0, 15); z < end; z += rng.Uniform(18, 32))
            if (!intersections.Any(i => z > i.Z0 - 1 && z < i.Z1 + 1))
                statics.Add(StreetLamp(rng, new Vec3(side * (half + 0.6), 0, z), -side, lampLight, lampIntensity));
        for (double z = start + rng.Uniform(5, 30); z < end; z += rng.Uniform(20, 50))
            if (!intersections.Any(i => z > i.Z0 - 2 && z < i.Z1 + 1))
                statics.Add(TrafficSign(rng, new Vec3(side * (half + 0.45), 0, z)));
        if (sidewalk > 3.2 && rng.Chance(0.6))
            for (double z = start + rng.Uniform(0, 8); z < end; z += rng.Uniform(8, 16))
                if (!intersections.Any(i => z > i.Z0 - 3 && z < i.Z1 + 3))
                    statics.Add(Tree(rng, new Vec3(side * (half + sidewalk * 0.65), 0, z)));
        foreach (var (z0, z1) in intersections)
        {
            statics.Add(TrafficLight(rng, new Vec3(side * (half + 0.5), 0, z0 - 1.2), -side));
            if (rng.Chance(0.5)) statics.Add(TrafficLight(rng, new Vec3(side * (half + 0.5), 0, z1 + 1.0), -side));
        }
    }

    private static void AddSkyline(StreamRandom rng, List<SceneObject> statics, double z, Shading shade, double litFraction)
    {
        for (double x = -150; x < 150; x += rng.Uniform(12, 30))
        {
            double w = rng.Uniform(10, 30);
            if (rng.Chance(0.25)) { statics.Add(Tree(rng, new Vec3(x, 0, z + rng.Uniform(0, 20)), SceneLayer.Backdrop)); continue; }
            statics.Add(Building(rng, new Vec3(x, 0, z + rng.Uniform(0, 40)), new Vec3(x + w, rng.Uniform(8, 40), z + 60), Jitter(rng, rng.Pick(Facades), 0.12), shade, litFraction, x > 0));
        }
    }

    private static readonly Scalar[] Facades =
        [new(150, 180, 200), new(140, 140, 140), new(90, 150, 190), new(200, 205, 210), new(60, 80, 140), new(120, 160, 175), new(170, 175, 165), new(110, 120, 130), new(80, 110, 160)];
}
