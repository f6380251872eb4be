using DANNet.Edge.Contracts;
using DANNet.Trainer.Data;

namespace DANNet.Trainer.Losses;

/// <summary>
/// DANNet's probability re-weighting: rare classes get weights above 1, frequent ones below.
/// w'_k = −log f_k; w_k = (w'_k − mean(w')) / std(w') · s + 1 with the unbiased standard deviation;
/// s = 0.05 in training, 0.16 at test time.
/// </summary>
public static class ClassWeights
{
    /// <summary>Strength used in training (segmentation loss and pseudo labels).</summary>
    public const double TrainingStrength = 0.05;

    /// <summary>Strength used at test time (re-weighting the logits before argmax).</summary>
    public const double TestStrength = 0.16;

    /// <summary>Cityscapes train class pixel frequencies, trainId order (from the reference implementation).</summary>
    public static IReadOnlyList<double> CityscapesFrequencies { get; } =
    [
        .36869696, .06084986, .22824049, .00655399, .00877272, .01227341, .00207795, .0055127, .15928651, .01157818,
        .04018982, .01218957, .00135122, .06994545, .00267456, .00235192, .00232904, .00098658, .00413907,
    ];

    /// <summary>Weights from class frequencies (all must be positive: a class absent from the labels has no defined weight).</summary>
    public static float[] FromFrequencies(IReadOnlyList<double> frequencies, double strength)
    {
        if (frequencies.Count < 2) throw new ArgumentException("At least two class frequencies are needed.", nameof(frequencies));
        for (int k = 0; k < frequencies.Count; k++)
            if (!(frequencies[k] > 0))
                throw new ArgumentException($"Class {k} has frequency {frequencies[k]}; every class must occur in the labels to get a weight.", nameof(frequencies));
        var neglog = frequencies.Select(f => -Math.Log(f)).ToArray();
        double mean = neglog.Average();
        double std = Math.Sqrt(neglog.Sum(v => (v - mean) * (v - mean)) / (neglog.Length - 1));
        return neglog.Select(v => (float)((v - mean) / std * strength + 1)).ToArray();
    }

    /// <summary>Frequencies of a labelled set (share of labelled pixels per class).</summary>
    public static double[] Frequencies(ClassPixelCounts counts) =>
        Enumerable.Range(0, CityscapesClasses.Count).Select(counts.Fraction).ToArray();
}
