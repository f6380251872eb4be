using DANNet.Edge.Contracts;
using OpenCvSharp;

namespace DANNet.Model.Scoring;

/// <summary>labelId → trainId conversion with validation (colouring: <see cref="MaskColours"/>).</summary>
public static class LabelMapping
{
    /// <summary>
    /// Maps a Cityscapes labelIds image to trainIds (0..18, 255 ignored). A pixel value that is not a
    /// Cityscapes labelId (34..254) fails with the file, the value, where it first occurs and how often.
    /// </summary>
    public static unsafe Mat ToTrainIds(Mat labelIds, string pathForErrors)
    {
        if (labelIds.Type() != MatType.CV_8UC1 || !labelIds.IsContinuous())
            throw new ArgumentException($"Label image '{pathForErrors}' must be continuous single-channel 8-bit.", nameof(labelIds));
        var result = new Mat(labelIds.Size(), MatType.CV_8UC1);
        byte* src = (byte*)labelIds.DataPointer, dst = (byte*)result.DataPointer;
        var map = CityscapesClasses.LabelIdToTrainId;
        long n = (long)labelIds.Rows * labelIds.Cols, bad = 0, first = -1;
        byte badValue = 0;
        for (long i = 0; i < n; i++)
        {
            byte v = src[i];
            if (!CityscapesClasses.IsKnownLabelId(v))
            {
                if (bad++ == 0) { first = i; badValue = v; }
            }
            dst[i] = map[v];
        }
        if (bad > 0)
        {
            result.Dispose();
            throw new InvalidDataException(
                $"Label image '{pathForErrors}' contains labelId {badValue} at (x={first % labelIds.Cols}, y={first / labelIds.Cols}) " +
                $"and {bad - 1} more unknown pixels; Cityscapes labelIds are 0..{CityscapesClasses.MaxLabelId} (255 = ignore). " +
                "Is this a colour or trainId image instead of *_labelIds.png?");
        }
        return result;
    }
}
