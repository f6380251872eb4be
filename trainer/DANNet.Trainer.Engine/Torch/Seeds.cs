using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Torch;

/// <summary>
/// Seeding every generator a run draws from. TorchSharp's <c>random.manual_seed</c> seeds the CPU generator only (its native
/// <c>THSGenerator_manual_seed</c> sets the default CPU generator), while dropout on a GPU draws from the CUDA generators: those are
/// seeded here too when the run is on CUDA. The trainer reseeds at every iteration from (seed, iteration), so a resumed run continues
/// every stream exactly without storing generator states.
/// </summary>
public static class Seeds
{
    public static void All(long seed, Device device)
    {
        random.manual_seed(seed);
        if (device.type == DeviceType.CUDA) cuda.manual_seed_all(seed);
    }

    /// <summary>
    /// On CUDA with <paramref name="deterministic"/>: no TF32 in convolutions or matrix products, and cuBLAS's fixed workspace
    /// (<c>CUBLAS_WORKSPACE_CONFIG=:4096:8</c>, unless set), so those sum in one order. What TorchSharp 0.107 cannot switch:
    /// cuDNN's choice of deterministic algorithms (<c>use_deterministic_algorithms</c> is marked "not implemented" there, and
    /// <c>cudnn.deterministic</c> is not exposed) — a GPU run is close to, not guaranteed bit-identical with, its repeat
    /// (docs/gpu-training.md). Without the switch libtorch's defaults stand (TF32 convolutions on GPUs that have it). Nothing changes
    /// on the CPU, which is deterministic already.
    /// </summary>
    public static void Determinism(Device device, bool deterministic)
    {
        if (device.type != DeviceType.CUDA || !deterministic) return;
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CUBLAS_WORKSPACE_CONFIG")))
            Environment.SetEnvironmentVariable("CUBLAS_WORKSPACE_CONFIG", ":4096:8");
        backends.cudnn.allow_tf32 = false;
        backends.cuda.matmul.allow_tf32 = false;
    }
}
