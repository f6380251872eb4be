using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DANNet.Trainer.Torch;

/// <summary>
/// TorchSharp's Adam with the same state, options and checkpoint format, and a step whose numbers
/// are held for the duration of the update (TorchSharp 0.107's own step makes its betas, bias
/// corrections, ε and step size implicit, finalizer-owned scalars; see <see cref="ScalarScope"/>).
/// The arithmetic is PyTorch's: m ← β₁·m + (1 − β₁)·g; v ← β₂·v + (1 − β₂)·g²;
/// denominator √v / √(1 − β₂ᵗ) + ε (√max v with AMSGrad); p ← p − lr/(1 − β₁ᵗ) · m / denominator.
/// </summary>
public sealed class StableAdam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
    double weightDecay = 0, bool amsgrad = false, bool maximize = false)
    : Adam(parameters, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = (Options)group.Options;
        double b1 = o.beta1!.Value, b2 = o.beta2!.Value, wd = o.weight_decay!.Value, lrNow = o.LearningRate!.Value;
        using var s = new ScalarScope();
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            if (o.maximize!.Value) grad = grad.neg();
            var state = (State)_state[param.Handle];
            state.step += 1;
            double correction1 = 1 - Math.Pow(b1, state.step), correction2 = 1 - Math.Pow(b2, state.step);
            if (wd != 0) grad = grad.add(param, s[wd]);
            state.exp_avg.mul_(s[b1]).add_(grad, s[1 - b1]);
            state.exp_avg_sq.mul_(s[b2]).addcmul_(grad, grad.conj(), s[1 - b2]);
            Tensor second = state.exp_avg_sq;
            if (o.amsgrad!.Value)
            {
                var previous = state.max_exp_avg_sq;
                state.max_exp_avg_sq = maximum(previous, state.exp_avg_sq).DetachFromDisposeScope();
                previous.Dispose();
                second = state.max_exp_avg_sq;
            }
            var denominator = second.sqrt().div_(s[Math.Sqrt(correction2)]).add_(s[o.eps!.Value], HeldScalars.One);
            param.addcdiv_(state.exp_avg, denominator, s[-lrNow / correction1]);
        }
    }, closure)!;
}
