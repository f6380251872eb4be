using DANNet.Model.IO;
using DANNet.Model.Scoring;
using DANNet.Edge.Contracts;
using DANNet.Trainer.IO;
using OpenCvSharp;

namespace DANNet.Trainer.Data;

/// <summary>Per-class pixel counts of a set of label images.</summary>
public sealed class ClassPixelCounts(long[] counts, long ignored)
{
    public IReadOnlyList<long> Counts { get; } = counts;
    public long Ignored { get; } = ignored;
    public long Labelled { get; } = counts.Sum();

    /// <summary>Share of class <paramref name="trainId"/> among labelled (not ignored) pixels.</summary>
    public double Fraction(int trainId) => Labelled == 0 ? 0 : (double)Counts[trainId] / Labelled;

    /// <summary>Share of ignored pixels among all pixels.</summary>
    public double IgnoredFraction => Labelled + Ignored == 0 ? 0 : (double)Ignored / (Labelled + Ignored);
}

/// <summary>Counts class pixels over label files (the class frequencies of the re-weighting come from here).</summary>
public static class ClassPixelCounter
{
    public static ClassPixelCounts Count(IEnumerable<string> labelPaths, LabelFormat format)
    {
        var counts = new long[CityscapesClasses.Count];
        long ignored = 0;
        foreach (var path in labelPaths)
        {
            try
            {
                using var raw = ImageFiles.ReadLabel(path);
                using var trainIds = format == LabelFormat.CityscapesLabelIds ? LabelMapping.ToTrainIds(raw, path) : raw.Clone();
                ignored += Accumulate(trainIds, counts, path);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                throw new DatasetException(ex.Message, ex);
            }
        }
        return new ClassPixelCounts(counts, ignored);
    }

    private static unsafe long Accumulate(Mat trainIds, long[] counts, string path)
    {
        byte* p = (byte*)trainIds.DataPointer;
        long n = (long)trainIds.Rows * trainIds.Cols, ignored = 0;
        for (long i = 0; i < n; i++)
        {
            byte v = p[i];
            if (v < CityscapesClasses.Count) counts[v]++;
            else if (v == CityscapesClasses.Ignore) ignored++;
            else throw new DatasetException($"trainId label '{path}' contains {v} at pixel {i}; trainIds are 0..{CityscapesClasses.Count - 1} or 255.");
        }
        return ignored;
    }
}
