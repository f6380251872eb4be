using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>
/// Renders the individual frames of SynthNight from (seed, role, index): source day frames, target
/// day/night pairs of the same street, labelled night evaluation frames and the night drive. Each
/// frame has its own random streams, so any frame can be rendered alone, in any order, in parallel,
/// and always comes out byte for byte the same.
/// </summary>
public sealed class SynthNightRenderer(ulong seed, SynthScaleSpec spec)
{
    private enum Stream : ulong { SourceWorld = 1, SourceFrame, PairWorld, PairNight, PairDay, EvalWorld, EvalFrame, VideoWorld, VideoFrame, NightLook }

    /// <summary>Metres the camera moves between consecutive frames of a target sequence.</summary>
    public const double SequenceSpacing = 7.0;

    public SynthScaleSpec Spec => spec;

    private StreamRandom Rng(Stream stream, params ReadOnlySpan<ulong> ids)
    {
        Span<ulong> all = stackalloc ulong[ids.Length + 1];
        all[0] = (ulong)stream;
        ids.CopyTo(all[1..]);
        return new StreamRandom(seed, all);
    }

    /// <summary>A labelled day frame in the source look. <paramref name="split"/>: 0 train, 1 val.</summary>
    public RenderedFrame Source(int split, int index)
    {
        var world = StreetWorld.Generate(Rng(Stream.SourceWorld, (ulong)split, (ulong)index), 80, 0.3);
        var rng = Rng(Stream.SourceFrame, (ulong)split, (ulong)index);
        var camera = PlaceCamera(rng, world, CameraLook.Source, spec.SourceSize, rng.Uniform(0, 30));
        byte featured = Traffic.FeaturedRotation[index % Traffic.FeaturedRotation.Length];
        var traffic = Traffic.Sample(rng, world, camera.Position.X, camera.Position.Z, false, featured, rng.Uniform(0.5, 1.2));
        return RenderDay(world, traffic, camera, CameraLook.Source, rng);
    }

    /// <summary>
    /// Frame <paramref name="frame"/> of target sequence <paramref name="sequence"/>: the night frame and
    /// the day frame of roughly the same place (camera shifted by up to ±3 m, ±1 m and ±3°, other traffic).
    /// </summary>
    public (RenderedFrame Night, RenderedFrame Day) Pair(int sequence, int frame, bool withTraffic = true)
    {
        var night = PairNightScene(sequence, frame, withTraffic);
        var dayRng = Rng(Stream.PairDay, (ulong)sequence, (ulong)frame);
        var p = night.Camera.Position;
        var dayPosition = new Vec3(
            Math.Clamp(p.X + dayRng.Uniform(-1, 1), 0.5, night.World.RoadHalfWidth - 0.5),
            p.Y + dayRng.Uniform(-0.05, 0.05),
            p.Z + dayRng.Uniform(-3, 3));
        var dayCamera = new PinholeCamera(spec.TargetSize.Width, spec.TargetSize.Height, night.Camera.Focal, dayPosition,
            night.Camera.Yaw + dayRng.Uniform(-0.05, 0.05), night.Camera.Pitch + dayRng.Uniform(-0.01, 0.01));

        int n = sequence * spec.FramesPerSequence + frame;
        var dayTraffic = withTraffic ? Traffic.Sample(dayRng, night.World, dayPosition.X, dayPosition.Z, false,
            Traffic.DynamicRotation[(n + 3) % Traffic.DynamicRotation.Length], dayRng.Uniform(0.5, 1.2)) : [];
        return (RenderNight(night.World, night.Traffic, night.Camera, SequenceNightLook(sequence, spec.TargetSize.Width), night.Rng),
            RenderDay(night.World, dayTraffic, dayCamera, CameraLook.Target, dayRng));
    }

    /// <summary>The night side of a pair: street, camera, traffic and the random stream the rendering continues with.</summary>
    private (StreetWorld World, PinholeCamera Camera, List<SceneObject> Traffic, StreamRandom Rng) PairNightScene(int sequence, int frame, bool withTraffic)
    {
        var world = PairWorld(sequence);
        var rng = Rng(Stream.PairNight, (ulong)sequence, (ulong)frame);
        var camera = PlaceCamera(rng, world, CameraLook.Target, spec.TargetSize, 5 + frame * SequenceSpacing);
        int n = sequence * spec.FramesPerSequence + frame;
        var traffic = withTraffic ? Traffic.Sample(rng, world, camera.Position.X, camera.Position.Z, true, Traffic.DynamicRotation[n % Traffic.DynamicRotation.Length], rng.Uniform(0.3, 0.9)) : [];
        return (world, camera, traffic, rng);
    }

    /// <summary>A labelled night frame for evaluation. <paramref name="split"/>: 0 val, 1 test.</summary>
    public RenderedFrame EvalNight(int split, int index)
    {
        var world = StreetWorld.Generate(Rng(Stream.EvalWorld, (ulong)split, (ulong)index), 80, Rng(Stream.EvalWorld, (ulong)split, (ulong)index, 1).Uniform(0.2, 0.55));
        var rng = Rng(Stream.EvalFrame, (ulong)split, (ulong)index);
        var camera = PlaceCamera(rng, world, CameraLook.Target, spec.TargetSize, rng.Uniform(0, 30));
        byte featured = Traffic.FeaturedRotation[index % Traffic.FeaturedRotation.Length];
        var traffic = Traffic.Sample(rng, world, camera.Position.X, camera.Position.Z, true, featured, rng.Uniform(0.3, 0.9));
        var look = NightLook.Sample(rng, spec.TargetSize.Width);
        return RenderNight(world, traffic, camera, look, rng);
    }

    /// <summary>The static part of the night drive; generate once and pass to <see cref="VideoFrame"/>.</summary>
    public (StreetWorld World, List<SceneObject> Traffic) VideoStreet()
    {
        double length = spec.VideoFrames * VideoMetresPerFrame + 20;
        var world = StreetWorld.Generate(Rng(Stream.VideoWorld), length, 0.4);
        var rng = Rng(Stream.VideoWorld, 1);
        var traffic = Traffic.Sample(rng, world, VideoLaneX(world), 0, true, 0, 0.6, length + 120, clearEgoLane: true);
        return (world, traffic);
    }

    private double VideoMetresPerFrame => 12.0 / spec.VideoFps; // about 43 km/h

    /// <summary>The centre of the first lane right of the centre line: where the drive goes.</summary>
    private static double VideoLaneX(StreetWorld world) => world.LaneWidth * (world.Lanes % 2 == 0 ? 0.5 : 1.0);

    /// <summary>Frame <paramref name="index"/> of the night drive along <see cref="VideoStreet"/>.</summary>
    public Mat VideoFrame((StreetWorld World, List<SceneObject> Traffic) street, int index)
    {
        var (world, traffic) = street;
        var size = spec.VideoSize;
        double t = index / spec.VideoFps;
        double x = VideoLaneX(world) + 0.3 * Math.Sin(t * 0.4);
        var camera = new PinholeCamera(size.Width, size.Height, CameraLook.Target.FocalFactor * size.Width,
            new Vec3(x, 1.45 + 0.01 * Math.Sin(t * 7), index * VideoMetresPerFrame), 0.03 * Math.Sin(t * 0.3), CameraLook.Target.Pitch);
        var look = NightLook.Drive(size.Width);
        using var frame = RenderNight(world, traffic, camera, look, Rng(Stream.VideoFrame, (ulong)index));
        return frame.Image.Clone();
    }

    /// <summary>Renders a night frame and hands each stage of the night model to <paramref name="stage"/> (for the README).</summary>
    public RenderedFrame NightStages(int sequence, int frame, Action<string, Mat> stage)
    {
        var night = PairNightScene(sequence, frame, withTraffic: true);
        return RenderNight(night.World, night.Traffic, night.Camera, SequenceNightLook(sequence, spec.TargetSize.Width), night.Rng, stage);
    }

    private StreetWorld PairWorld(int sequence)
    {
        var rng = Rng(Stream.PairWorld, (ulong)sequence);
        double lit = rng.Uniform(0.2, 0.55);
        return StreetWorld.Generate(rng, spec.FramesPerSequence * SequenceSpacing + 20, lit);
    }

    private NightLook SequenceNightLook(int sequence, int width) =>
        NightLook.Sample(Rng(Stream.NightLook, (ulong)sequence), width);

    private static PinholeCamera PlaceCamera(StreamRandom rng, StreetWorld world, CameraLook look, Size size, double z)
    {
        int rightLanes = Math.Max(1, world.Lanes / 2);
        int lane = rng.Int(0, rightLanes);
        double laneX = world.RoadHalfWidth - (lane + 0.5) * world.LaneWidth;
        if (world.ParkingLanes && lane == 0 && world.Lanes >= 3) laneX -= world.LaneWidth;
        double x = Math.Max(world.Lanes % 2 == 1 ? 0.3 : 0.8, laneX + rng.Uniform(-0.35, 0.35));
        var position = new Vec3(x, rng.Uniform(look.HeightMin, look.HeightMax), z);
        return new PinholeCamera(size.Width, size.Height, look.FocalFactor * size.Width * rng.Uniform(0.97, 1.03), position,
            rng.Uniform(-0.05, 0.05), look.Pitch + rng.Uniform(-0.012, 0.012));
    }

    private static RenderedFrame RenderDay(StreetWorld world, List<SceneObject> traffic, PinholeCamera camera, CameraLook look, StreamRandom rng)
    {
        using var layers = new RenderLayers(camera.Width, camera.Height);
        SceneRenderer.Render(layers, camera, world, traffic, look.EgoHood, egoHeadlights: false);
        return new RenderedFrame(SceneComposer.ComposeDay(layers, look, rng), layers.Label.Clone());
    }

    private static RenderedFrame RenderNight(StreetWorld world, List<SceneObject> traffic, PinholeCamera camera, NightLook look, StreamRandom rng, Action<string, Mat>? stage = null)
    {
        using var layers = new RenderLayers(camera.Width, camera.Height);
        SceneRenderer.Render(layers, camera, world, traffic, egoHood: false, egoHeadlights: true);
        return new RenderedFrame(SceneComposer.ComposeNight(layers, CameraLook.Target, look, rng, stage), layers.Label.Clone());
    }
}
