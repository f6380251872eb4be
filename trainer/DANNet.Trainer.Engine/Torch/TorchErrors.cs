using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace DANNet.Trainer.Torch;

/// <summary>
/// libtorch's CUDA failures, which reach .NET as <see cref="ExternalException"/> with a C++ backtrace, as one line that names the
/// device, what was asked and what is free where libtorch says it, and the fix: out of memory, a GPU this libtorch has no kernels for,
/// cuDNN and other CUDA errors. Anything else is not described (null): it keeps its stack, as a defect should.
/// </summary>
public static partial class TorchErrors
{
    /// <summary>The oldest compute capability the CUDA libtorch we name (TorchSharp 0.107: libtorch 2.10, CUDA 12.8) has kernels for.</summary>
    public const string MinimumComputeCapability = "7.5";

    /// <summary>One line for <paramref name="ex"/> on <paramref name="device"/>, or null when it is not a CUDA failure.</summary>
    public static string? Describe(Exception ex, string device)
    {
        if (ex is not ExternalException) return null;
        string message = ex.Message;
        string first = message.Split('\n')[0].Trim();
        if (message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) && message.Contains("CUDA", StringComparison.Ordinal))
        {
            var asked = Asked().Match(message);
            var free = Free().Match(message);
            string amounts = (asked.Success ? $"the step asked for {asked.Groups[1].Value}" : "") +
                (free.Success ? $"{(asked.Success ? " with " : "")}{free.Groups[2].Value} free of {free.Groups[1].Value}" : "");
            return $"out of GPU memory on {device}{(amounts.Length > 0 ? $" ({amounts})" : "")}: train on smaller crops (--set augment.sourceCrop=… " +
                "--set augment.targetCrop=…/augment.targetResize=…), a smaller batch (--set optim.batchSize=1) or a lighter --arch, or on a GPU with more memory.";
        }
        if (message.Contains("no kernel image is available", StringComparison.OrdinalIgnoreCase))
            return $"{device}: this GPU's compute capability has no kernels in this libtorch (the CUDA 12.8 build of libtorch 2.10 supports compute " +
                $"capability {MinimumComputeCapability} and newer; docs/gpu-training.md): train on a supported GPU, or with --device cpu.";
        if (message.Contains("CUDNN_STATUS", StringComparison.Ordinal) || message.Contains("cuDNN error", StringComparison.OrdinalIgnoreCase))
        {
            var status = CudnnStatus().Match(message);
            return $"cuDNN failed on {device}{(status.Success ? $" ({status.Value})" : "")}: {first} — check that the driver supports CUDA 12.8 " +
                "(nvidia-smi), then try --set run.deterministic=true or a smaller crop.";
        }
        if (message.Contains("CUDA error", StringComparison.Ordinal) || message.Contains("CUDA driver", StringComparison.Ordinal))
            return $"CUDA failed on {device}: {first} — check the driver (nvidia-smi) and CUDA_VISIBLE_DEVICES, or train with --device cpu.";
        return null;
    }

    [GeneratedRegex(@"Tried to allocate ([0-9.]+ [KMGT]?i?B)")]
    private static partial Regex Asked();

    [GeneratedRegex(@"total capacity of ([0-9.]+ [KMGT]?i?B) of which ([0-9.]+ [KMGT]?i?B) is free")]
    private static partial Regex Free();

    [GeneratedRegex(@"CUDNN_STATUS_[A-Z_]+")]
    private static partial Regex CudnnStatus();
}
