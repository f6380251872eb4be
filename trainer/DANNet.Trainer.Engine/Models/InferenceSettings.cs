using DANNet.Trainer.Losses;

namespace DANNet.Trainer.Models;

/// <summary>
/// How a trained model is meant to be run, recorded with its checkpoint (<c>state.json</c>) and in
/// its ONNX metadata so that no command restates it: the evaluation input size, the class
/// frequencies of its training labels and the test-time re-weighting strength s.
/// </summary>
public sealed record InferenceSettings(int Height, int Width, IReadOnlyList<double> ClassFrequencies, double ReweightStrength = Losses.ClassWeights.TestStrength)
{
    /// <summary>The reference protocol: 540x960, Cityscapes frequencies, s = 0.16 (for weights that record nothing, e.g. official .pth files).</summary>
    public static InferenceSettings Reference { get; } = new(540, 960, Losses.ClassWeights.CityscapesFrequencies);

    /// <summary>The re-weighting as class weights.</summary>
    public float[] ClassWeights() => Losses.ClassWeights.FromFrequencies(ClassFrequencies, ReweightStrength);

    /// <summary>These settings at another size (an explicit --height/--width).</summary>
    public InferenceSettings WithSize(int? height, int? width) => this with { Height = height ?? Height, Width = width ?? Width };
}
