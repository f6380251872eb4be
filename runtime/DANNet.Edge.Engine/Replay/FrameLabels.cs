using DANNet.Edge.Contracts;
using DANNet.Model.IO;
using DANNet.Model.Scoring;
using OpenCvSharp;

namespace DANNet.Edge.Replay;

/// <summary>A label image as Cityscapes trainIds (0..18, 255 ignored), row-major.</summary>
public sealed record LabelImage(string Path, int Width, int Height, byte[] TrainIds)
{
    /// <summary>
    /// <paramref name="mask"/> (<paramref name="width"/> x <paramref name="height"/>) against this label with dannet-train eval's
    /// confusion matrix: the mask is scaled to the label's size by nearest neighbour, as eval does for an exported model.
    /// </summary>
    public ConfusionMatrix Score(ReadOnlySpan<byte> mask, int width, int height)
    {
        var matrix = new ConfusionMatrix();
        matrix.Add(TrainIds, Masks.Scale(mask, width, height, Width, Height));
        return matrix;
    }
}

/// <summary>
/// A folder of labels for a drive, found per frame: a frame with a name (an image folder's file) by that name — <c>stem.png</c>,
/// <c>stem_gt_labelIds.png</c>, <c>stem_labelIds.png</c>, <c>stem_gtFine_labelIds.png</c>, and the Dark Zurich and Cityscapes pairs
/// <c>…_rgb_anon</c> → <c>…_gt_labelIds</c>, <c>…_leftImg8bit</c> → <c>…_gtFine_labelIds</c> (<c>labelTrainIds</c> for trainId
/// labels); a frame of a video by its index (<c>000123.png</c>, <c>000123_gt_labelIds.png</c>, …). Frames without a label are not scored.
/// </summary>
public sealed class FrameLabels
{
    private readonly string _dir;
    private readonly bool _trainIds;
    private readonly string _suffix;

    public FrameLabels(string dir, bool trainIds)
    {
        if (!Directory.Exists(dir)) throw new ArgumentException($"--labels '{dir}' is not a folder.");
        _dir = dir;
        _trainIds = trainIds;
        _suffix = trainIds ? "labelTrainIds" : "labelIds";
    }

    public string Folder => _dir;

    /// <summary>The label file of a frame, or null.</summary>
    public string? Find(long index, string? name)
    {
        IEnumerable<string> stems = name is null ? [$"{index:D6}", $"{index}"] : [Path.GetFileNameWithoutExtension(name)];
        return stems.SelectMany(s => new[] { $"{s}.png", $"{s}_gt_{_suffix}.png", $"{s}_{_suffix}.png", $"{s}_gtFine_{_suffix}.png" })
            .Concat(name is null ? [] : Paired(Path.GetFileNameWithoutExtension(name)))
            .Select(n => Path.Combine(_dir, n)).FirstOrDefault(File.Exists);
    }

    private IEnumerable<string> Paired(string stem)
    {
        foreach (var (image, label) in new[] { ("_rgb_anon", "_gt_"), ("_leftImg8bit", "_gtFine_") })
            if (stem.EndsWith(image, StringComparison.Ordinal)) yield return $"{stem[..^image.Length]}{label}{_suffix}.png";
    }

    /// <summary>The frame's label as trainIds, or null when it has none.</summary>
    public LabelImage? Load(long index, string? name)
    {
        if (Find(index, name) is not { } path) return null;
        using var read = ImageFiles.ReadLabel(path);
        using var label = _trainIds ? read.Clone() : LabelMapping.ToTrainIds(read, path);
        var ids = new byte[label.Rows * label.Cols];
        System.Runtime.InteropServices.Marshal.Copy(label.Data, ids, 0, ids.Length);
        return new LabelImage(path, label.Cols, label.Rows, ids);
    }
}

/// <summary>Masks (row-major class ids) scaled by nearest neighbour, as the label comparisons and source-size masks need.</summary>
public static class Masks
{
    /// <summary><paramref name="mask"/> (<paramref name="width"/> x <paramref name="height"/>) at <paramref name="toWidth"/> x <paramref name="toHeight"/>.</summary>
    public static byte[] Scale(ReadOnlySpan<byte> mask, int width, int height, int toWidth, int toHeight)
    {
        if (mask.Length != width * height) throw new ArgumentException($"A {width}x{height} mask has {width * height} values, not {mask.Length}.");
        if (width == toWidth && height == toHeight) return mask.ToArray();
        using var small = Mat(mask, width, height);
        using var scaled = small.Resize(new Size(toWidth, toHeight), 0, 0, InterpolationFlags.Nearest);
        var result = new byte[toWidth * toHeight];
        System.Runtime.InteropServices.Marshal.Copy(scaled.Data, result, 0, result.Length);
        return result;
    }

    /// <summary>A new 8-bit single-channel Mat holding a copy of <paramref name="mask"/>.</summary>
    public static Mat Mat(ReadOnlySpan<byte> mask, int width, int height)
    {
        var mat = new Mat(height, width, MatType.CV_8UC1);
        unsafe { mask.CopyTo(new Span<byte>((void*)mat.DataPointer, mask.Length)); }
        return mat;
    }
}
