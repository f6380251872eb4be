using System.Runtime.InteropServices;

namespace DANNet.Trainer.Torch;

/// <summary>
/// libtorch's NNPACK switch (PyTorch's <c>torch.backends.nnpack.set_flags</c>, which TorchSharp 0.107 does not expose). libtorch asks
/// whether NNPACK is available on every CPU convolution before it looks at anything else, and where NNPACK cannot initialise (our
/// family 26 VMs: docs/measured-platform.md) each asking tries again and prints "Could not
/// initialize NNPACK! Reason: Unsupported hardware" — thousands of lines in a training log. Off, libtorch does not ask. It changes
/// no result: NNPACK only ever serves float32 batches of 16 or more, and there it could not run anyway.
/// </summary>
public static partial class Nnpack
{
    private const string LibTorchCpu = LibTorchContext.LibTorchCpu;

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZN2at6native17_nnpack_availableEv")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool Available();

    [LibraryImport(LibTorchCpu, EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    private static readonly Lazy<bool> s_settled = new(() =>
    {
        var context = LibTorchContext.Get();
        bool available = Available(); // one warning line where it is not
        if (!available) SetUserEnabledNnpack(context, false);
        return available;
    });

    /// <summary>Asks once whether NNPACK initialises here and, where it does not, switches it off for the process. Returns whether it does.</summary>
    public static bool SwitchOffWhereUnavailable() => s_settled.Value;
}
