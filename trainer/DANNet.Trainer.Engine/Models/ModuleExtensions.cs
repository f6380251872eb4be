using static TorchSharp.torch;

namespace DANNet.Trainer.Models;

/// <summary>Helpers for switching parts of the DANNet graph in and out of training.</summary>
public static class ModuleExtensions
{
    /// <summary>
    /// Turns gradient tracking on or off for every parameter of <paramref name="module"/> — how a
    /// generator step keeps the discriminators fixed. BatchNorm parameters of a frozen-BN trunk stay off.
    /// </summary>
    public static void SetRequiresGrad(this nn.Module module, bool requiresGrad)
    {
        // modules() does not include the module itself.
        var frozen = module.modules().Prepend(module).OfType<IHasFrozenParameters>()
            .SelectMany(m => m.FrozenParameters()).Select(p => p.Handle).ToHashSet();
        foreach (var p in module.parameters())
            p.requires_grad = requiresGrad && !frozen.Contains(p.Handle);
    }
}
