using DANNet.Model.IO;
using DANNet.Model.Onnx;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;
using Google.Protobuf;
using OpenCvSharp;

namespace DANNet.Trainer.Export;

/// <summary><c>dannet-train export</c>'s work: the graph, its checks, and the one atomic write.</summary>
public static class ModelExport
{
    /// <summary>
    /// Exports, checks (parity with TorchSharp unless <paramref name="verify"/> is off, TensorRT readiness) and writes the model to <paramref name="path"/>
    /// atomically — only when every check passes, so a failed export never replaces a good model. Reports on <paramref name="output"/>; false: not written.
    /// </summary>
    public static bool Write(ArchitectureSpec architecture, LightNet? light, SegmentationNet segmentation, ExportOptions options, ExportProvenance provenance,
        string path, bool verify, string? verifyImage, TextWriter output)
    {
        // Every check runs on the model in memory; the file at --out is replaced only when all pass, so a failed
        // export never replaces a good model (and never leaves a half-written one).
        var model = DannetExporter.Export(architecture, light, segmentation, options, provenance);
        var bytes = model.ToByteArray();
        output.WriteLine($"exported {architecture} ({bytes.Length / 1e6:F1} MB): input {options.Height}x{options.Width}, {model.Graph.Node.Count} nodes, opset {DannetExporter.Opset}");
        bool ok = true;
        if (verify)
        {
            using var image = verifyImage is null ? TestPattern(options.Height, options.Width) : LoadResized(verifyImage, options.Height, options.Width);
            var parity = OnnxParity.Check(architecture, light, segmentation, image, exported: options);
            output.WriteLine($"parity (ONNX Runtime CPU vs TorchSharp): {parity} — {(parity.Passes ? "OK" : $"ABOVE the {OnnxParity.MaxLogitDifference:0e0} / " +
                $"{OnnxParity.MinMaskAgreement:P1} bounds")}");
            ok &= parity.Passes;
        }
        var report = TensorRtReadiness.Check(model);
        output.Write(report);
        ok &= report.Ready;
        if (!ok)
        {
            output.WriteLine($"not written: the checks above failed; {(File.Exists(path) ? $"'{path}' is unchanged" : $"nothing was written to '{path}'")}.");
            return false;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, bytes);
        output.WriteLine($"wrote {path}");
        return true;
    }

    /// <summary>A smooth synthetic street-like pattern (dark sky, brighter road, some texture) for the parity check.</summary>
    public static Mat TestPattern(int height, int width)
    {
        var image = new Mat(height, width, MatType.CV_8UC3);
        var noise = new byte[height * width * 3];
        new Random(1).NextBytes(noise);
        unsafe
        {
            byte* p = (byte*)image.DataPointer;
            for (int y = 0, i = 0; y < height; y++)
                for (int x = 0; x < width; x++, i += 3)
                {
                    double v = y < height / 2 ? 20 + 30.0 * y / height : 60 + 80.0 * (y - height / 2) / height;
                    p[i] = (byte)Math.Clamp(v + noise[i] / 16, 0, 255);
                    p[i + 1] = (byte)Math.Clamp(v * 0.9 + noise[i + 1] / 16, 0, 255);
                    p[i + 2] = (byte)Math.Clamp(v * 0.8 + noise[i + 2] / 16 + 40.0 * x / width, 0, 255);
                }
        }
        return image;
    }

    private static Mat LoadResized(string path, int height, int width)
    {
        using var image = ImageFiles.ReadColor(path);
        return image.Resize(new OpenCvSharp.Size(width, height), 0, 0, InterpolationFlags.Linear);
    }
}
