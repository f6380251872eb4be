using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DANNet.Trainer.Torch;

/// <summary>
/// TorchSharp's SGD with the same state, options and checkpoint format, and a step whose numbers
/// are held for the duration of the update. TorchSharp 0.107's own step passes weight decay,
/// momentum, 1 − dampening and −lr as implicit scalars, once per parameter per step — four
/// finalizer-owned objects libtorch reads per parameter (see <see cref="ScalarScope"/>).
/// The arithmetic is PyTorch's: g ← g + wd·p; b ← μ·b + (1 − τ)·g (b ← g at the first step);
/// g ← g + μ·b with Nesterov, else g ← b; p ← p − lr·g (or + when maximising).
/// </summary>
public sealed class StableSgd(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
    : SGD(parameters, lr, momentum, dampening, weightDecay, nesterov, maximize)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = group.Options;
        double mu = o.momentum!.Value, tau = o.dampening!.Value, wd = o.weight_decay!.Value, lrNow = o.LearningRate!.Value;
        using var s = new ScalarScope();
        Scalar weightDecayS = s[wd], momentumS = s[mu], keep = s[1 - tau], lrS = s[o.maximize!.Value ? lrNow : -lrNow];
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            if (wd != 0) grad = grad.add(param, weightDecayS);
            if (mu != 0)
            {
                var state = (State)_state[param.Handle];
                if (state.momentum_buffer is null)
                    state.momentum_buffer = grad.clone().detach().DetachFromDisposeScope();
                else
                    state.momentum_buffer.mul_(momentumS).add_(grad, keep);
                grad = o.nesterov!.Value ? grad.add(state.momentum_buffer, momentumS) : state.momentum_buffer;
            }
            param.add_(grad, lrS);
        }
    }, closure)!;
}
