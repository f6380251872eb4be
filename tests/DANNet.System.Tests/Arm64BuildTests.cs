using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace DANNet.System.Tests;

/// <summary>
/// The arm64 build on any arm64 board without a GPU: it carries an inference engine (ONNX Runtime's
/// aarch64 CPU library) and its ring is read by x64 readers and reads x64 writers. OpenCV for arm64 is
/// the Jetson guide's job (no arm64 OpenCvSharp runtime is served), so these runs need none.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class Arm64BuildTests(Arm64Build arm64, ITestOutputHelper log) : IClassFixture<Arm64Build>
{
    private static readonly string X64Edge = Path.Combine(PackagedService.RepositoryRoot, "runtime", "DANNet.Edge", "bin", "Release", "net10.0", "dannet-edge.dll");
    private static readonly string PythonReader = Path.Combine(PackagedService.RepositoryRoot, "runtime", "python", "dannet_edge_shm.py");

    private Arm64Build Build
    {
        get
        {
            Skip.If(arm64.SkipReason is not null, arm64.SkipReason);
            foreach (var n in arm64.Notes) log.WriteLine(n);
            return arm64;
        }
    }

    [SkippableFact]
    public void The_arm64_build_carries_onnx_runtime_and_runs_the_embedded_model_as_the_x64_build_does()
    {
        var build = Build;
        Assert.True(File.Exists(Path.Combine(build.PublishFolder, "libonnxruntime.so")), "no libonnxruntime.so in the arm64 publish");
        string dir = Directory.CreateTempSubdirectory("dannet-arm64-model-").FullName;
        try
        {
            // A real frame of the night drive at the model's input size, as a PPM (ffmpeg: build.sh installs it).
            string frame = Path.Combine(dir, "frame.ppm");
            Host.Run(60, "ffmpeg", "-loglevel", "error", "-y", "-i", Path.Combine(PackagedService.RepositoryRoot, "assets", "synthnight-night-drive-640x360.avi"),
                "-vf", "select=eq(n\\,30),scale=480:272", "-frames:v", "1", "-vcodec", "ppm", frame);
            string x64Mask = Path.Combine(dir, "x64.pgm"), armMask = Path.Combine(dir, "arm64.pgm");
            Host.Run(120, "dotnet", X64Edge, "model", "--image", frame, "--mask-out", x64Mask, "--frames", "0", "--threads", "1");
            var clock = Stopwatch.StartNew();
            var (code, output) = build.Run(900, "model", "--image", frame, "--mask-out", armMask, "--frames", "0", "--threads", "1");
            Assert.True(code == 0, $"arm64 dannet-edge model exited {code}: {output}");
            Assert.Contains("pspnet-r18i-l16 with LightNet relighting", output);
            byte[] a = File.ReadAllBytes(x64Mask), b = File.ReadAllBytes(armMask);
            Assert.Equal(a.Length, b.Length);
            int header = "P5\n480 272\n255\n".Length, differ = 0;
            for (int i = header; i < a.Length; i++) if (a[i] != b[i]) differ++;
            double agreement = 1 - (double)differ / (a.Length - header);
            log.WriteLine($"arm64 under qemu ({clock.Elapsed.TotalSeconds:F0} s) vs x64: {differ} of {a.Length - header} mask pixels differ, {agreement:P3} agree");
            // The embedded model is int8 (Q/DQ): ONNX Runtime's int8 kernels differ per instruction set (x86 u8×s8 with
            // VNNI or AVX2, arm64 s8×s8 dot products), and so does the rounding of their requantisation; pixels near a
            // class boundary flip. Measured 98.2 % here (README); far below that is a wrong engine, not rounding.
            Assert.True(agreement >= 0.97, $"arm64 and x64 masks agree on {agreement:P2} only");
        }
        finally { Directory.Delete(dir, true); }
    }

    [SkippableFact]
    public void An_arm64_writer_is_read_by_the_x64_tap_and_the_python_reader_and_an_x64_writer_by_the_arm64_tap()
    {
        var build = Build;
        string dir = Directory.CreateTempSubdirectory("dannet-arm64-ring-").FullName;
        try
        {
            string armRing = Path.Combine(dir, "arm", "masks"), x64Ring = Path.Combine(dir, "x64", "masks");
            using (var writer = build.Start("publish-test-pattern", "--path", armRing, "--seconds", "25", "--fps", "20"))
            {
                var tap = Host.TryRun(60, "dotnet", X64Edge, "tap", "--path", armRing, "--frames", "20", "--seconds", "40", "--verify-pattern");
                var python = Host.TryRun(60, "python3", PythonReader, "--path", armRing, "--frames", "10", "--seconds", "30", "--verify-pattern");
                writer.Kill(true);
                log.WriteLine("x64 tap of the arm64 writer: " + Last(tap.Output));
                log.WriteLine("python reader of the arm64 writer: " + Last(python.Output));
                Assert.Matches(@"read [1-9]\d* frames.*checksum failures 0, pattern mismatches 0", tap.Output);
                Assert.Matches(@"[1-9]\d* frames", python.Output);
                Assert.Equal(0, python.Code);
                Assert.DoesNotContain("mismatch", Regex.Replace(python.Output, @"\b0 pattern mismatches|mismatches 0|\b0 mismatches", ""));
            }
            using (var writer = Process.Start(new ProcessStartInfo("dotnet", [X64Edge, "publish-test-pattern", "--path", x64Ring, "--seconds", "40", "--fps", "20"])
                       { RedirectStandardOutput = true, RedirectStandardError = true })!)
            {
                var tap = build.Run(120, "tap", "--path", x64Ring, "--frames", "10", "--seconds", "60", "--verify-pattern");
                writer.Kill(true);
                log.WriteLine("arm64 tap of the x64 writer: " + Last(tap.Output));
                Assert.Matches(@"read [1-9]\d* frames.*checksum failures 0, pattern mismatches 0", tap.Output);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [SkippableFact]
    public void The_arm64_tap_refuses_forged_rings_as_the_x64_tap_does()
    {
        var build = Build;
        string dir = Directory.CreateTempSubdirectory("dannet-arm64-forged-").FullName;
        try
        {
            var forged = new Dictionary<string, byte[]>
            {
                ["zeros"] = new byte[4096],
                ["text"] = "this is not a mask ring, but it is long enough to have a header......................"u8.ToArray(),
                ["short"] = [0x44, 0x4e],
            };
            // A real ring with its version field raised and one with its geometry made impossible.
            string real = Path.Combine(dir, "real", "masks");
            Host.Run(60, "dotnet", X64Edge, "publish-test-pattern", "--path", real, "--frames", "2", "--width", "16", "--height", "8");
            byte[] ring = File.ReadAllBytes(real);
            forged["version"] = (byte[])ring.Clone();
            forged["version"][8] = 99;
            forged["geometry"] = (byte[])ring.Clone();
            Array.Fill(forged["geometry"], (byte)0xff, 16, 8);
            foreach (var (name, bytes) in forged)
            {
                string path = Path.Combine(dir, name);
                File.WriteAllBytes(path, bytes);
                string x64 = Verdict(Host.TryRun(60, "dotnet", X64Edge, "tap", "--path", path, "--any-writer", "--frames", "1", "--seconds", "2").Output);
                string arm = Verdict(build.Run(120, "tap", "--path", path, "--any-writer", "--frames", "1", "--seconds", "2").Output);
                log.WriteLine($"{name}: {arm}");
                Assert.Equal(x64, arm);
                Assert.Contains("read 0 frames", arm);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>What tap printed, less timings that differ between runs.</summary>
    private static string Verdict(string output) => Regex.Replace(output.Trim(), @"waits \d+|mean [0-9.]+ ms \(max [0-9.]+ ms\)|/tmp/\S+", "…");

    private static string Last(string output) => output.Trim().Split('\n')[^1];
}
