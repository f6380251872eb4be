using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DANNet.Trainer.Models;

/// <summary>Parameter count and multiply-accumulates of one forward pass, measured on a real forward.</summary>
public sealed record ModelComplexity(long Parameters, long MultiplyAdds)
{
    /// <summary>
    /// Counts the parameters of <paramref name="module"/> and the multiply-adds of every convolution
    /// (and transposed convolution) in one forward pass on a zero image of the given size, read from
    /// the real input and output shapes through forward hooks. Pooling, normalisation, activations and
    /// interpolation are not counted (they are a few percent at most).
    /// </summary>
    public static ModelComplexity Measure(nn.Module<Tensor, Tensor> module, int height, int width)
    {
        long parameters = module.parameters().Sum(p => p.numel());
        long macs = 0;
        var removers = new List<Action>();
        foreach (var m in module.modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    var convHook = conv.register_forward_hook((c, input, output) =>
                    {
                        macs += output.numel() * (conv.in_channels / conv.groups) * conv.kernel_size[0] * conv.kernel_size[1];
                        return output;
                    });
                    removers.Add(convHook.remove);
                    break;
                case ConvTranspose2d deconv:
                    var deconvHook = deconv.register_forward_hook((c, input, output) =>
                    {
                        macs += input.numel() * (deconv.out_channels / deconv.groups) * deconv.kernel_size[0] * deconv.kernel_size[1];
                        return output;
                    });
                    removers.Add(deconvHook.remove);
                    break;
            }
        }
        try
        {
            bool wasTraining = module.training;
            module.eval();
            using (no_grad())
            using (var scope = NewDisposeScope())
                module.call(zeros(1, 3, height, width));
            module.train(wasTraining);
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
        return new ModelComplexity(parameters, macs);
    }
}
