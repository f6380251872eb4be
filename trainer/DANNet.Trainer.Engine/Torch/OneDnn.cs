using System.Runtime.InteropServices;

namespace DANNet.Trainer.Torch;

/// <summary>
/// libtorch's switch for oneDNN (MKL-DNN), the library its CPU convolutions run on by default — PyTorch's
/// <c>torch.backends.mkldnn.enabled</c>, which TorchSharp 0.107 does not expose. Off, libtorch computes convolutions with its own
/// kernels (im2col and GEMM): correct where oneDNN is not (<see cref="ConvolutionCheck"/>), several times slower.
/// The switch is process-wide and is read at each convolution call.
/// </summary>
public static partial class OneDnn
{
    private const string LibTorchCpu = LibTorchContext.LibTorchCpu;

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool UserEnabledMkldnn(IntPtr context);

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    /// <summary>Whether libtorch may use oneDNN for CPU operators (on by default).</summary>
    public static bool Enabled
    {
        get => UserEnabledMkldnn(LibTorchContext.Get());
        set => SetUserEnabledMkldnn(LibTorchContext.Get(), value);
    }
}
