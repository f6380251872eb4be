using System.CommandLine;
using DANNet.Trainer.Diagnostics;
using DANNet.Trainer.Models;
using DANNet.Trainer.Torch;
using TorchSharp;
using OpenCvSharp;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train doctor</c>: check that the native stack (libtorch, OpenCV) loads and works here.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var command = new Command("doctor", "Check that TorchSharp/libtorch loads and trains on this machine and report the OpenCV build (video back-ends).");
        command.SetAction(_ => Run(Console.Out, Console.Error));
        return command;
    }

    /// <summary>A convolution's forward and backward on the CPU and on each CUDA device: one line each; the failures counted.</summary>
    private static int Convolutions(TextWriter output, TextWriter error)
    {
        int failures = 0;
        var devices = new List<TorchSharp.torch.Device> { TorchSharp.torch.CPU };
        devices.AddRange(Enumerable.Range(0, Torch.TrainingDevice.CudaDevices()).Select(i => new TorchSharp.torch.Device(TorchSharp.DeviceType.CUDA, i)));
        foreach (var device in devices)
        {
            string name = device.type == TorchSharp.DeviceType.CPU ? "cpu" : $"cuda:{device.index}";
            try
            {
                double norm = TorchCheck.ConvForwardBackward(device);
                output.WriteLine($"conv      ok    {name}: a 3x3 convolution's forward and backward (gradient norm {norm:F4})");
            }
            catch (Exception ex) when (ex is System.Runtime.InteropServices.ExternalException or InvalidOperationException)
            {
                failures++;
                error.WriteLine($"conv      FAIL  {Torch.TorchErrors.Describe(ex, name) ?? $"{name}: {ex.Message.Split('\n')[0]}"}");
            }
        }
        return failures;
    }

    /// <summary>
    /// The convolutions DANNet trains (the edge net, LightNet, the discriminators) against their exact values, as every training run checks
    /// them: ok; oneDNN wrong here and switched off (training does the same: correct, slower); or wrong either way (a failure).
    /// </summary>
    private static int Kernels(TextWriter output, TextWriter error)
    {
        const string Arch = "pspnet-r18i-l16";
        using var nets = DannetNets.Create(ArchitectureSpec.Parse(Arch), relighting: true, withDiscriminators: true, discriminatorChannels: 16);
        try
        {
            string? note = ConvolutionCheck.EnsureCorrect(nets.ByName(), torch.CPU);
            output.WriteLine(note is null
                ? $"kernels   ok    cpu: every convolution of {Arch}, LightNet and the discriminators within float32 rounding of the exact value (oneDNN {(OneDnn.Enabled ? "on" : "off")})"
                : $"kernels   warn  {note}");
            return 0;
        }
        catch (ConvolutionFaultException ex)
        {
            error.WriteLine($"kernels   FAIL  {ex.Message}");
            return 1;
        }
    }

    internal static int Run(TextWriter output, TextWriter error)
    {
        int failures = 0;
        try
        {
            var r = TorchCheck.TrainTinyNet();
            output.WriteLine($"torch     ok    libtorch {r.TorchVersion}, {r.Threads} threads; tiny net loss {r.LossBefore:F4} -> {r.LossAfter:F4} " +
                $"after 3 SGD steps, max weight change {r.MaxWeightChange:E2}");
            output.WriteLine($"devices   ok    {Torch.TrainingDevice.Describe()}");
            output.WriteLine(Nnpack.SwitchOffWhereUnavailable()
                ? "nnpack    ok    libtorch's NNPACK initialises here (it serves float32 convolution batches of 16 or more)"
                : "nnpack    off   libtorch's NNPACK cannot initialise on this CPU (its one warning above); switched off so that libtorch stops " +
                  "retrying and warning at every convolution — no result changes (it serves float32 batches of 16 or more only)");
            failures += Convolutions(output, error);
            failures += Kernels(output, error);
        }
        catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            failures++;
            error.WriteLine($"torch     FAIL  {ex.GetBaseException().Message.Split('\n')[0]}");
            error.WriteLine("          The native TorchSharp library did not load. Rebuild (the build weakens its GLIBCXX_3.4.32 need on Linux) and check 'ldd' of bin/**/libLibTorchSharp.so.");
        }
        try
        {
            string info = Cv2.GetBuildInformation();
            string Line(string key) => info.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith(key, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "NO (not in this build)";
            output.WriteLine($"opencv    ok    {Cv2.GetVersionString()}; FFMPEG: {Line("FFMPEG")}; GStreamer: {Line("GStreamer")}; v4l/v4l2: {Line("v4l/v4l2")}");
        }
        catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException)
        {
            failures++;
            error.WriteLine($"opencv    FAIL  {ex.GetBaseException().Message.Split('\n')[0]}");
            error.WriteLine("          OpenCvSharp's native library did not load; on Debian install its dependency: apt-get install -y --no-install-recommends libgtk-3-0");
        }
        return failures == 0 ? 0 : 1;
    }
}
