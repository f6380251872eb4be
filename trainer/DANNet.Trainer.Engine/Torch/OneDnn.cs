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
    // at::globalContext() and at::Context's member functions (Itanium C++ ABI: 'this' is the first argument), exported by
    // libtorch_cpu.so, which TorchSharp has loaded by the time anything here runs.
    private const string LibTorchCpu = "libtorch_cpu.so";

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool UserEnabledMkldnn(IntPtr context);

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static partial void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    /// <summary>Whether libtorch may use oneDNN for CPU operators (on by default).</summary>
    public static bool Enabled
    {
        get
        {
            _ = TorchSharp.torch.get_num_threads(); // loads libtorch through TorchSharp first
            return UserEnabledMkldnn(GlobalContext());
        }
        set
        {
            _ = TorchSharp.torch.get_num_threads();
            SetUserEnabledMkldnn(GlobalContext(), value);
        }
    }
}
