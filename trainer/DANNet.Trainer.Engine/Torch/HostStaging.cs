using static TorchSharp.torch;

namespace DANNet.Trainer.Torch;

/// <summary>
/// Code that makes tensors without naming a device and that we cannot change (TorchSharp's optimiser-state loader) runs with the
/// CPU as the default device: what it makes is staged on the host, then copied where it belongs — as our own staging code does by
/// passing <c>device: CPU</c>. The test that runs training with the default device set to <c>meta</c> relies on it.
/// </summary>
public static class HostStaging
{
    public static void Run(Action action)
    {
        var previous = get_default_device();
        set_default_device(CPU);
        try
        {
            action();
        }
        finally
        {
            set_default_device(previous);
        }
    }
}
