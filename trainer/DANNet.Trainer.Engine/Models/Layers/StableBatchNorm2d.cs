using DANNet.Trainer.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DANNet.Trainer.Models.Layers;

/// <summary>
/// BatchNorm2d with TorchSharp 0.107's training-mode forward minus one crash. TorchSharp's own
/// <c>BatchNorm.forward</c> counts batches with <c>num_batches_tracked.add_(1)</c>: the implicit
/// <see cref="Scalar"/> made for the <c>1</c> is unreachable once its handle is passed to libtorch,
/// so a garbage collection during the call can finalize it while libtorch reads it — long training
/// runs here died every 1,000–2,000 iterations with "Unknown scalar type" / "toLong" errors inside
/// <c>BatchNorm.forward</c>. Here the increment uses one <see cref="Scalar"/> that lives as long as
/// the process. Same parameters, buffers and state-dict keys as <see cref="BatchNorm2d"/>, same
/// arithmetic (<c>functional.batch_norm</c> with the momentum), so reference checkpoints load as before.
/// </summary>
public sealed class StableBatchNorm2d(long features, double eps = 1e-5, double momentum = 0.1)
    : BatchNorm(features, eps, momentum, affine: true, track_running_stats: true, device: null, dtype: null, name: nameof(BatchNorm2d))
{
    private static readonly Scalar One = 1L.ToScalar();

    protected override void ValidateInputDimensions(Tensor input)
    {
        if (input.ndim != 4) throw new ArgumentException($"{nameof(StableBatchNorm2d)}: expected 4-D input (N×C×H×W), got {input.ndim}-D.");
    }

    public override Tensor forward(Tensor input)
    {
        ValidateInputDimensions(input);
        if (training && track_running_stats) num_batches_tracked?.PlusInPlace(One);
        // As in PyTorch: normalise with batch statistics in training (updating the running ones),
        // with the running statistics in eval.
        return nn.functional.batch_norm(input, running_mean, running_var, weight, bias, training, momentum ?? 0.1, eps);
    }
}
