namespace DANNet.Edge.Contracts;

/// <summary>
/// The 19-class Cityscapes table shared by trainer, runtime and calibration: trainIds, labelIds,
/// names, palette and which classes are static. Values follow the official Cityscapes label
/// definition; the ignore value is 255 in both trainId and colour masks.
/// </summary>
public static class CityscapesClasses
{
    /// <summary>Number of evaluated classes.</summary>
    public const int Count = 19;

    /// <summary>Number of static classes; they occupy trainIds 0..10.</summary>
    public const int StaticCount = 11;

    /// <summary>Value of an ignored pixel in a trainId mask.</summary>
    public const byte Ignore = 255;

    /// <summary>The classes in trainId order.</summary>
    public static IReadOnlyList<SegmentationClass> All { get; } =
    [
        new(0, 7, "road", new(128, 64, 128), true),
        new(1, 8, "sidewalk", new(244, 35, 232), true),
        new(2, 11, "building", new(70, 70, 70), true),
        new(3, 12, "wall", new(102, 102, 156), true),
        new(4, 13, "fence", new(190, 153, 153), true),
        new(5, 17, "pole", new(153, 153, 153), true),
        new(6, 19, "traffic light", new(250, 170, 30), true),
        new(7, 20, "traffic sign", new(220, 220, 0), true),
        new(8, 21, "vegetation", new(107, 142, 35), true),
        new(9, 22, "terrain", new(152, 251, 152), true),
        new(10, 23, "sky", new(70, 130, 180), true),
        new(11, 24, "person", new(220, 20, 60), false),
        new(12, 25, "rider", new(255, 0, 0), false),
        new(13, 26, "car", new(0, 0, 142), false),
        new(14, 27, "truck", new(0, 0, 70), false),
        new(15, 28, "bus", new(0, 60, 100), false),
        new(16, 31, "train", new(0, 80, 100), false),
        new(17, 32, "motorcycle", new(0, 0, 230), false),
        new(18, 33, "bicycle", new(119, 11, 32), false),
    ];

    /// <summary>Class names in trainId order.</summary>
    public static IReadOnlyList<string> Names { get; } = All.Select(c => c.Name).ToArray();

    /// <summary>The class colours in trainId order: the one palette table (models state theirs in <c>dannet.palette</c>).</summary>
    public static IReadOnlyList<Rgb> Palette { get; } = All.Select(c => c.Color).ToArray();

    /// <summary>Highest labelId of the official Cityscapes table (license plate, -1, is never stored in PNGs).</summary>
    public const byte MaxLabelId = 33;

    /// <summary>
    /// labelId → trainId for every byte value. Known labelIds that are not evaluated (0..33 outside
    /// the 19) map to <see cref="Ignore"/>; 255 (already ignored) stays 255. Other values are not
    /// Cityscapes labelIds: <see cref="IsKnownLabelId"/> tells them apart.
    /// </summary>
    public static ReadOnlySpan<byte> LabelIdToTrainId => s_labelToTrain;

    /// <summary>trainId → labelId for 0..18; 255 for every other byte.</summary>
    public static ReadOnlySpan<byte> TrainIdToLabelId => s_trainToLabel;

    private static readonly byte[] s_labelToTrain = BuildLabelToTrain();
    private static readonly byte[] s_trainToLabel = BuildTrainToLabel();

    /// <summary>True when <paramref name="value"/> may appear in a Cityscapes labelIds image.</summary>
    public static bool IsKnownLabelId(byte value) => value <= MaxLabelId || value == Ignore;

    /// <summary>The class with the given trainId.</summary>
    public static SegmentationClass ByTrainId(int trainId) =>
        trainId is >= 0 and < Count
            ? All[trainId]
            : throw new ArgumentOutOfRangeException(nameof(trainId), trainId, $"trainId must be 0..{Count - 1}.");

    private static byte[] BuildLabelToTrain()
    {
        var map = new byte[256];
        Array.Fill(map, Ignore);
        foreach (var c in All) map[c.LabelId] = c.TrainId;
        return map;
    }

    private static byte[] BuildTrainToLabel()
    {
        var map = new byte[256];
        Array.Fill(map, Ignore);
        foreach (var c in All) map[c.TrainId] = c.LabelId;
        return map;
    }
}
