using System.Runtime.InteropServices;

namespace DANNet.Trainer.Torch;

/// <summary>
/// libtorch's process-wide <c>at::Context</c> (<c>at::globalContext()</c>), whose switches TorchSharp 0.107 does not expose
/// (<see cref="OneDnn"/>, <see cref="Nnpack"/>). Its member functions are called by their Itanium C++ ABI names, 'this' first, from
/// libtorch_cpu.so — loaded through TorchSharp by <see cref="Get"/> before anything is called.
/// </summary>
internal static partial class LibTorchContext
{
    internal const string LibTorchCpu = "libtorch_cpu.so";

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    /// <summary>The context, with libtorch loaded first.</summary>
    internal static IntPtr Get()
    {
        _ = TorchSharp.torch.get_num_threads(); // loads libtorch through TorchSharp
        return GlobalContext();
    }
}
