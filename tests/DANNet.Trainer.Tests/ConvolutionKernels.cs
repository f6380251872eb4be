using System.Runtime.CompilerServices;
using DANNet.Trainer.Torch;
using DANNet.Trainer.Models;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests;

/// <summary>
/// Settles libtorch's oneDNN switch before any test runs, as every training run settles it for its process
/// (<see cref="ConvolutionCheck.EnsureCorrect"/>): on a CPU whose oneDNN convolutions are wrong it goes off here, once, rather than
/// in the middle of the tests — where a determinism test's two runs would straddle the change.
/// </summary>
internal static class ConvolutionKernels
{
    /// <summary>The note the check gave (null: oneDNN's convolutions are right here).</summary>
    public static string? Note { get; private set; }

    /// <summary>The nets the tests train most (the tiny PSPNet, LightNet, 16-channel discriminators): what the check settles on.</summary>
    public static DannetNets ProbeNets() =>
        DannetNets.Create(ArchitectureSpec.Parse("pspnet-r18-w0.25-l4"), relighting: true, withDiscriminators: true, discriminatorChannels: 16);

    [ModuleInitializer]
    internal static void Settle()
    {
        using var nets = ProbeNets();
        // Not the per-layer repair training uses first: tests also run convolutions outside training's nets (golden gradients,
        // conformance), so where oneDNN is wrong the whole test process does without it.
        Note = ConvolutionCheck.EnsureCorrect(nets.ByName(), CPU, repairLayers: false);
    }
}
