using DANNet.Edge.Contracts;
using DANNet.Trainer.Torch;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Losses;

/// <summary>The source segmentation loss: cross-entropy with class weights (s = 0.05), pixels labelled 255 ignored.</summary>
public static class WeightedCrossEntropy
{
    /// <param name="logits">N×C×H×W.</param>
    /// <param name="labels">N×H×W int64 trainIds, 255 = ignore.</param>
    /// <param name="weights">C class weights.</param>
    public static Tensor Compute(Tensor logits, Tensor labels, Tensor weights) =>
        functional.cross_entropy(logits, labels, weight: weights, ignore_index: CityscapesClasses.Ignore);
}

/// <summary>
/// Pseudo labels for the static loss from the day and night <em>logits</em> of a pair (upsampled,
/// before softmax, as the reference's training loop passes them). For the 11 static classes
/// m = a·day + (1 − a)·night with a = 0.8 where the day logit exceeds 0.4, else 0.2; the 8 dynamic
/// channels take the night logits; multiply by the class weights, argmax, and every label ≥ 11
/// becomes 255. Given probabilities instead, the 0.4 threshold would select other pixels and the
/// weighted argmax other classes: the caller must pass logits.
/// </summary>
public static class PseudoLabelFusion
{
    public const double DayThreshold = 0.4, ConfidentDayWeight = 0.8, OtherDayWeight = 0.2;

    /// <returns>N×H×W int64 labels in 0..10 or 255, without gradient.</returns>
    public static Tensor Fuse(Tensor day, Tensor night, Tensor weights)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var n = new ScalarScope();
        int s = CityscapesClasses.StaticCount;
        var dayStatic = day[.., ..s];
        var a = full_like(dayStatic, n[OtherDayWeight]).masked_fill_(dayStatic.gt(n[DayThreshold]), n[ConfidentDayWeight]);
        var fusedStatic = (a * dayStatic).Plus(a.neg().Plus(n[1]) * night[.., ..s]);
        var fused = cat([fusedStatic, night[.., s..]], 1) * weights.view(1, -1, 1, 1);
        var labels = fused.argmax(1);
        labels.masked_fill_(labels.ge(n[s]), n[CityscapesClasses.Ignore]);
        return labels.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// DANNet's static loss on the night prediction, with the intended 3x3 neighbourhood rule (the
/// reference code's neighbour shifting aliases one tensor and degenerates). Softmax over the 11
/// static night logits; p = max_c(w_c · prob_c · o_c) where o_c = 1 if class c occurs in the 3x3
/// window (zero padding) around the pixel in the pseudo label; focal form −(1 − p)^γ·log p with
/// γ = 1, averaged over pixels whose own pseudo label is valid.
/// </summary>
public static class StaticLoss
{
    public const double Gamma = 1.0;

    /// <param name="staticLogits">N×11×H×W night logits of the static classes.</param>
    /// <param name="pseudoLabels">N×H×W int64, 0..10 or 255.</param>
    /// <param name="staticWeights">11 class weights (s = 0.05).</param>
    public static Tensor Compute(Tensor staticLogits, Tensor pseudoLabels, Tensor staticWeights, double gamma = Gamma)
    {
        using var scope = NewDisposeScope();
        using var s = new ScalarScope();
        long classes = staticLogits.shape[1];
        var valid = pseudoLabels.ne(s[CityscapesClasses.Ignore]);
        Tensor occurs;
        using (no_grad())
        {
            var safe = where(valid, pseudoLabels, zeros_like(pseudoLabels));
            var oneHot = functional.one_hot(safe, classes).permute(0, 3, 1, 2).to(staticLogits.dtype) * valid.unsqueeze(1).to(staticLogits.dtype);
            // Max-pooling a 0/1 map over 3x3 marks every class present in the window; the implicit
            // -inf padding of max_pool2d behaves like zero padding here because the map is never negative.
            occurs = functional.max_pool2d(oneHot, 3, stride: 1, padding: 1);
        }
        var prob = functional.softmax(staticLogits, 1);
        var p = (prob * staticWeights.view(1, -1, 1, 1) * occurs).amax([1]);
        var focal = p.neg().Plus(s[1]).pow(s[gamma]).neg() * log(p.clamp_min(s[1e-12]));
        // The mean over valid pixels, computed where the tensors are (no count read back to the host, no masked_select, whose output
        // size the host must learn): Σ focal·valid / max(#valid, 1) — 0, with a zero gradient, when no pixel is valid.
        var validCount = valid.sum().to(focal.dtype).clamp_min(s[1]);
        var loss = focal.mul(valid.to(focal.dtype)).sum().div(validCount);
        return loss.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Least-squares GAN terms (MSE). Labels: source 0, target 1. The generator pushes the
/// discriminator's output on target predictions towards 0 (source); each discriminator minimises
/// ½·MSE(D(P_s), 0) + ½·MSE(D(P_t), 1) on detached predictions.
/// </summary>
public static class LsganLoss
{
    public const double SourceLabel = 0, TargetLabel = 1;

    public static Tensor ToLabel(Tensor output, double label)
    {
        using var scope = NewDisposeScope();
        using var s = new ScalarScope();
        return output.sub(s[label]).pow(s[2]).mean().MoveToOuterDisposeScope();
    }

    public static Tensor Generator(Tensor discriminatorOnTarget) => ToLabel(discriminatorOnTarget, SourceLabel);

    public static Tensor Discriminator(Tensor onSource, Tensor onTarget)
    {
        using var scope = NewDisposeScope();
        using var s = new ScalarScope();
        return ToLabel(onSource, SourceLabel).mul(s[0.5]).Plus(ToLabel(onTarget, TargetLabel).mul(s[0.5])).MoveToOuterDisposeScope();
    }
}
