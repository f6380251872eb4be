using static DANNet.Trainer.Data.SynthNight.SceneBuilder;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>
/// The moving (and parked) part of a scene, sampled per frame: vehicles in lanes, parked cars,
/// pedestrians, cyclists and motorcyclists. Traffic drives on the right: lanes right of the centre
/// go away from the camera (rear lights), lanes left of it come towards it (headlights).
/// </summary>
public static class Traffic
{
    /// <summary>
    /// Samples traffic around a camera at (<paramref name="cameraX"/>, <paramref name="cameraZ"/>).
    /// <paramref name="featuredLabelId"/>, when not 0, guarantees one instance of that class in
    /// clear view 9–22 m ahead, so that small sets still contain every class. <paramref name="clearEgoLane"/>
    /// keeps the camera's lane (and the kerb-side cyclists) free, for drives past static traffic.
    /// </summary>
    public static List<SceneObject> Sample(StreamRandom rng, StreetWorld world, double cameraX, double cameraZ, bool night, byte featuredLabelId,
        double density, double span = 140, bool clearEgoLane = false)
    {
        var objects = new List<SceneObject>();
        double half = world.RoadHalfWidth, lw = world.LaneWidth;
        double from = cameraZ + 4, to = cameraZ + span;
        var shade = world.Shade;

        for (int lane = 0; lane < world.Lanes; lane++)
        {
            double x = -half + (lane + 0.5) * lw;
            bool oncoming = x < 0;
            bool parking = world.ParkingLanes && (lane == 0 || lane == world.Lanes - 1);
            bool egoLane = Math.Abs(x - cameraX) < lw / 2;
            if (egoLane && clearEgoLane) continue; // a drive along the street must not pass through parked traffic
            double z = from + (egoLane ? rng.Uniform(6, 20) : rng.Uniform(-2, 15));
            while (z < to)
            {
                if (rng.Chance(parking ? 0.75 * density : 0.45 * density) && !world.InIntersection(z, 2))
                {
                    var kind = parking ? VehicleKind.Car : rng.NextDouble() switch
                    {
                        < 0.78 => VehicleKind.Car,
                        < 0.88 => VehicleKind.Truck,
                        < 0.97 => VehicleKind.Bus,
                        _ => VehicleKind.Tram,
                    };
                    double xj = parking ? x + Math.Sign(x) * 0.4 : x + rng.Uniform(-0.3, 0.3);
                    var v = Vehicle(rng, kind, xj, z, oncoming, night && !parking, shade);
                    objects.Add(v);
                    z += kind switch { VehicleKind.Car => 5, VehicleKind.Truck => 9.5, VehicleKind.Bus => 13.5, _ => 31 };
                }
                z += parking ? rng.Uniform(0.6, 3) : rng.Uniform(6, 30);
            }
        }

        foreach (int side in (ReadOnlySpan<int>)[-1, 1])
        {
            int people = rng.Int(0, (int)(10 * density * span / 140) + 1);
            for (int i = 0; i < people; i++)
            {
                double z = rng.Uniform(from, cameraZ + span / 2);
                double x = side * (half + rng.Uniform(0.8, world.SidewalkWidth - 0.2));
                objects.Add(Pedestrian(rng, new Vec3(x, 0, z)));
            }
            if (rng.Chance(0.5 * density) && !clearEgoLane)
            {
                double z = rng.Uniform(from + 5, cameraZ + 60);
                objects.Add(TwoWheeler(rng, new Vec3(side * (half - 0.7), 0, z), rng.Chance(0.4), false, night));
            }
        }
        if (rng.Chance(0.3 * density))
        {
            var crossing = world.Intersections.FirstOrDefault(i => i.Z0 > from + 5 && i.Z0 < cameraZ + 50);
            if (crossing != default)
                for (int i = rng.Int(1, 4); i > 0; i--)
                    objects.Add(Pedestrian(rng, new Vec3(rng.Uniform(-half, half), 0, crossing.Z0 - rng.Uniform(1.5, 3.5))));
        }

        if (featuredLabelId != 0) objects.Add(Featured(rng, world, cameraX, cameraZ, featuredLabelId, night));
        return objects;
    }

    private static SceneObject Featured(StreamRandom rng, StreetWorld world, double cameraX, double cameraZ, byte label, bool night)
    {
        double half = world.RoadHalfWidth, z = cameraZ + rng.Uniform(9, 22);
        int side = rng.Chance(0.5) ? 1 : -1;
        double kerbSide = side * (half + 0.9), laneX = cameraX + side * world.LaneWidth;
        laneX = Math.Clamp(laneX, -half + world.LaneWidth / 2, half - world.LaneWidth / 2);
        bool oncoming = laneX < 0;
        return label switch
        {
            LabelIds.Person => Pedestrian(rng, new Vec3(kerbSide, 0, z)),
            LabelIds.Rider or LabelIds.Bicycle => TwoWheeler(rng, new Vec3(side * (half - 0.8), 0, z), false, rng.Chance(0.5), night),
            LabelIds.Motorcycle => TwoWheeler(rng, new Vec3(side * (half - 0.8), 0, z), true, rng.Chance(0.5), night),
            LabelIds.Car => Vehicle(rng, VehicleKind.Car, laneX, z, oncoming, night, world.Shade),
            LabelIds.Truck => Vehicle(rng, VehicleKind.Truck, laneX, z, oncoming, night, world.Shade),
            LabelIds.Bus => Vehicle(rng, VehicleKind.Bus, laneX, z, oncoming, night, world.Shade),
            LabelIds.Train => Vehicle(rng, VehicleKind.Tram, laneX, z, oncoming, night, world.Shade),
            LabelIds.TrafficLight => TrafficLight(rng, new Vec3(side * (half + 0.5), 0, z), -side),
            LabelIds.TrafficSign => TrafficSign(rng, new Vec3(side * (half + 0.45), 0, z)),
            LabelIds.Pole => StreetLamp(rng, new Vec3(side * (half + 0.6), 0, z), -side, world.LampLight, 1.0),
            LabelIds.Vegetation => Tree(rng, new Vec3(side * (half + world.SidewalkWidth * 0.7), 0, z)),
            LabelIds.Wall => Wall(rng, side > 0 ? half + 1.0 : -half - 1.3, side > 0 ? half + 1.3 : -half - 1.0, z, z + rng.Uniform(4, 10), rng.Uniform(1.0, 2.0), world.Shade),
            LabelIds.Fence => Fence(rng, side * (half + 1.0), -side, z, z + rng.Uniform(4, 10), rng.Uniform(1.0, 1.6)),
            LabelIds.Terrain => new SceneObject(SceneLayer.Objects, new Vec3(kerbSide, 0, z),
                [GroundRect(side > 0 ? half + 0.5 : -half - 2.5, side > 0 ? half + 2.5 : -half - 0.5, z, z + rng.Uniform(4, 10), LabelIds.Terrain,
                    Jitter(rng, new OpenCvSharp.Scalar(70, 150, 115), 0.2), 0.004)]),
            _ => throw new ArgumentOutOfRangeException(nameof(label), label, "SynthNight cannot feature this labelId."),
        };
    }

    /// <summary>Classes that small sets feature in turn, so each of them is present in every set of this many frames.</summary>
    public static readonly byte[] FeaturedRotation =
    [
        LabelIds.Person, LabelIds.Rider, LabelIds.Car, LabelIds.Truck, LabelIds.Bus, LabelIds.Train, LabelIds.Motorcycle,
        LabelIds.Bicycle, LabelIds.Wall, LabelIds.Fence, LabelIds.TrafficLight, LabelIds.TrafficSign, LabelIds.Terrain,
    ];

    /// <summary>The dynamic classes only: used where the static layout must stay that of the street (day/night pairs).</summary>
    public static readonly byte[] DynamicRotation =
        [LabelIds.Person, LabelIds.Rider, LabelIds.Car, LabelIds.Truck, LabelIds.Bus, LabelIds.Train, LabelIds.Motorcycle, LabelIds.Bicycle];
}
