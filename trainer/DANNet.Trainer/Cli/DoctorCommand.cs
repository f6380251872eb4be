using System.CommandLine;
using DANNet.Trainer.Diagnostics;
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

    internal static int Run(TextWriter output, TextWriter error)
    {
        int failures = 0;
        try
        {
            var r = TorchCheck.TrainTinyNet();
            output.WriteLine($"torch     ok    libtorch {r.TorchVersion}, {r.Threads} threads; tiny net loss {r.LossBefore:F4} -> {r.LossAfter:F4} " +
                $"after 3 SGD steps, max weight change {r.MaxWeightChange:E2}");
            output.WriteLine($"devices   ok    {Torch.TrainingDevice.Describe()}");
            failures += Convolutions(output, error);
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
