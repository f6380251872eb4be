using DANNet.Edge.Contracts;
using DANNet.Trainer.Data;
using OpenCvSharp;

namespace DANNet.Trainer.Data;

/// <summary>Per-class IoU, mIoU and the confusion matrix of one evaluation.</summary>
public sealed record EvaluationResult(string Set, int Images, double MeanIoU, IReadOnlyList<double> ClassIoU, ConfusionMatrix Confusion);

/// <summary>How often two segmenters give the same class: over every pixel of every image, and the worst image.</summary>
public sealed record MaskAgreement(long Pixels, long Equal, double WorstImage, string WorstImageName)
{
    public double Fraction => Pixels == 0 ? double.NaN : (double)Equal / Pixels;
}

/// <summary>
/// Evaluation of segmenters that map an 8-bit BGR image to trainIds at the image's size (an exported
/// model run by ONNX Runtime, or anything else), with the confusion matrix a checkpoint's evaluation
/// uses. Torch-free, so dannet-calibrate measures float and int8 models with the code dannet-train eval uses.
/// </summary>
public static class MaskEvaluation
{
    public static EvaluationResult Evaluate(Func<Mat, Mat> segment, string setName, IReadOnlyList<LabelledSample> samples,
        Action<int, int>? progress = null, CancellationToken cancel = default)
        => Evaluate([segment], setName, samples, progress, cancel).Results[0];

    /// <summary>
    /// Evaluates several segmenters on the same images in one pass (each image read once) and measures
    /// how often each agrees with the first, pixel by pixel (ignored label pixels included: agreement needs no labels).
    /// </summary>
    public static (IReadOnlyList<EvaluationResult> Results, IReadOnlyList<MaskAgreement> AgreementWithFirst) Evaluate(
        IReadOnlyList<Func<Mat, Mat>> segmenters, string setName, IReadOnlyList<LabelledSample> samples,
        Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        if (segmenters.Count == 0) throw new ArgumentException("No segmenter to evaluate.", nameof(segmenters));
        var confusion = segmenters.Select(_ => new ConfusionMatrix()).ToArray();
        var equal = new long[segmenters.Count];
        var worst = Enumerable.Repeat((Fraction: 1.0, Name: ""), segmenters.Count).ToArray();
        long pixels = 0;
        for (int i = 0; i < samples.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            using var sample = samples[i].Load();
            var truth = Bytes(sample.TrainIds);
            byte[]? first = null;
            for (int s = 0; s < segmenters.Count; s++)
            {
                using var mask = segmenters[s](sample.Image);
                if (mask.Rows != sample.TrainIds.Rows || mask.Cols != sample.TrainIds.Cols || mask.Type() != MatType.CV_8UC1)
                    throw new InvalidOperationException($"{sample.Name}: the segmenter gave a {mask.Cols}x{mask.Rows} {mask.Type()} mask " +
                        $"for a {sample.TrainIds.Cols}x{sample.TrainIds.Rows} label.");
                var predicted = Bytes(mask);
                confusion[s].Add(truth, predicted);
                first ??= predicted;
                long same = EqualPixels(first, predicted);
                equal[s] += same;
                double fraction = (double)same / predicted.Length;
                if (fraction < worst[s].Fraction || worst[s].Name.Length == 0) worst[s] = (fraction, sample.Name);
            }
            pixels += truth.Length;
            progress?.Invoke(i + 1, samples.Count);
        }
        var results = confusion.Select(c => new EvaluationResult(setName, samples.Count, c.MeanIoU(), c.IoU(), c)).ToList();
        var agreement = equal.Select((e, s) => new MaskAgreement(pixels, e, worst[s].Fraction, worst[s].Name)).ToList();
        return (results, agreement);
    }

    private static byte[] Bytes(Mat mask)
    {
        var bytes = new byte[mask.Rows * mask.Cols];
        using var continuous = mask.IsContinuous() ? null : mask.Clone();
        System.Runtime.InteropServices.Marshal.Copy((continuous ?? mask).Data, bytes, 0, bytes.Length);
        return bytes;
    }

    /// <summary>How many positions of two masks of equal length hold the same class.</summary>
    public static long EqualPixels(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Masks of {a.Length} and {b.Length} pixels cannot be compared.");
        long n = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] == b[i]) n++;
        return n;
    }

    /// <summary>The agreement of two lists of masks (mask i of one against mask i of the other), with the worst pair named by <paramref name="name"/>.</summary>
    public static MaskAgreement Agreement(IReadOnlyList<byte[]> a, IReadOnlyList<byte[]> b, Func<int, string> name)
    {
        if (a.Count != b.Count) throw new ArgumentException($"{a.Count} masks against {b.Count}.");
        long equal = 0, pixels = 0;
        (double Fraction, int Index) worst = (1, 0);
        for (int i = 0; i < a.Count; i++)
        {
            long same = EqualPixels(a[i], b[i]);
            equal += same;
            pixels += a[i].Length;
            if ((double)same / a[i].Length < worst.Fraction) worst = ((double)same / a[i].Length, i);
        }
        return new MaskAgreement(pixels, equal, worst.Fraction, a.Count == 0 ? "" : name(worst.Index));
    }
}
