using DANNet.Model;
using DANNet.Trainer.Data;
using DANNet.Model.Onnx;
using DANNet.Model.IO;
using DANNet.Trainer.Onnx;
using System.CommandLine;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Export;
using DANNet.Trainer.IO;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Checkpoints;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Models.Segmentation;
using DANNet.Trainer.Training;
using Google.Protobuf;
using Onnx;
using OpenCvSharp;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train export</c> and <c>check-onnx</c>.</summary>
internal static class ExportCommands
{
    public static readonly Option<int?> Height = new("--height") { Description = "Input and mask height (static; a multiple of 4 with LightNet). " +
        "Default: the model's evaluation height (its checkpoint's; 540 for .pth weights)." };
    public static readonly Option<int?> Width = new("--width") { Description = "Input and mask width (static; a multiple of 4 with LightNet). " +
        "Default: the model's evaluation width (960 for .pth weights)." };
    public static readonly Option<FileInfo> Out = new("--out", "-o") { Description = "The .onnx file to write (atomically).", Required = true };
    public static readonly Option<bool> WithProbabilities = new("--with-probabilities") { Description = "Add the output 'probabilities': re-weighted softmax, float32 [1,19,H,W]." };
    public static readonly Option<bool> WithRelit = new("--with-relit") { Description = "Add the output 'relit': the relit image x + r, float32 [1,3,H,W], normalised." };
    public static readonly Option<bool> NoVerify = new("--no-verify") { Description = "Skip the ONNX Runtime parity check against TorchSharp after export." };
    public static readonly Option<InputResize> Resize = new("--resize") { Description = "The resize the model was evaluated with, recorded in its " +
        "metadata (dannet.resize) as the default of dannet-edge run/replay/bench, predict/eval --onnx and dannet-calibrate: antialiased (PIL's, eval's " +
        "default), area or linear.", DefaultValueFactory = _ => InputResize.Antialiased, HelpName = "antialiased|area|linear" };
    public static readonly Option<FileInfo?> VerifyImage = new("--verify-image") { Description = "Image for the parity check (resized to the export size); default: a generated test pattern." };

    public static Command Export()
    {
        var command = new Command("export", "Export a checkpoint as one TensorRT-ready ONNX graph: uint8 BGR image [1,H,W,3] → relight → segment → " +
            "re-weight (s=0.16) → upsample → argmax → uint8 mask [1,H,W]. Then checks parity with ONNX Runtime and TensorRT readiness.")
        {
            Height, Width, Out, WithProbabilities, WithRelit, Resize, NoVerify, VerifyImage,
        };
        foreach (var option in ModelSourceOptions.All) command.Options.Add(option);
        command.SetAction(parse => CommandErrors.Run(Console.Error, () =>
        {
            var source = ModelSourceOptions.Resolve(parse);
            using var nets = source.Load();
            var options = new ExportOptions(source.Inference.WithSize(parse.GetValue(Height), parse.GetValue(Width)))
                with { Probabilities = parse.GetValue(WithProbabilities), Relit = parse.GetValue(WithRelit) && nets.Light is not null, Resize = parse.GetValue(Resize) };
            string path = parse.GetValue(Out)!.FullName;
            var provenance = new ExportProvenance(source.Description, source.ConfigHash);
            return Run(source.Architecture, nets.Light, nets.Segmentation, options, provenance, path, !parse.GetValue(NoVerify), parse.GetValue(VerifyImage)?.FullName, Console.Out);
        }));
        return command;
    }

    internal static int Run(ArchitectureSpec architecture, LightNet? light, SegmentationNet segmentation, ExportOptions options, ExportProvenance provenance,
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
            bool close = double.IsFinite(parity.MaxAbsLogitDiff) && parity.MaxAbsLogitDiff <= 1e-4 && parity.MaskAgreement >= 0.999;
            output.WriteLine($"parity (ONNX Runtime CPU vs TorchSharp): {parity} — {(close ? "OK" : "ABOVE the 1e-4 / 99.9 % bounds")}");
            ok &= close;
        }
        var report = TensorRtReadiness.Check(model);
        output.Write(report);
        ok &= report.Ready;
        if (!ok)
        {
            output.WriteLine($"not written: the checks above failed; {(File.Exists(path) ? $"'{path}' is unchanged" : $"nothing was written to '{path}'")}.");
            return 1;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, bytes);
        output.WriteLine($"wrote {path}");
        return 0;
    }

    /// <summary>A smooth synthetic street-like pattern (dark sky, brighter road, some texture) for the parity check.</summary>
    internal static Mat TestPattern(int height, int width)
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

    public static Command CheckOnnx()
    {
        var file = new Argument<FileInfo>("model") { Description = "The .onnx file to check." };
        var command = new Command("check-onnx", "Check an ONNX model against TensorRT's ONNX parser: supported operators and attributes, opset 9–20, " +
            "static shapes, UINT8 only at inputs/outputs, no float64, no int64 weights. Exit 1 on any problem.")
        {
            file,
        };
        command.SetAction(parse => CommandErrors.Run(Console.Error, () =>
        {
            string path = parse.GetValue(file)!.FullName;
            var model = ReadModel(path);
            var report = TensorRtReadiness.Check(model);
            Console.WriteLine(path);
            Console.Write(report);
            return report.Ready ? 0 : 1;
        }));
        return command;
    }

    /// <summary>Reads an ONNX model, with an error naming the file when it is not one.</summary>
    internal static ModelProto ReadModel(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No ONNX model at '{path}'.", path);
        try
        {
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            if (model.Graph is null || model.Graph.Node.Count == 0) throw new InvalidDataException($"'{path}' parses as protobuf but holds no ONNX graph.");
            return model;
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"'{path}' is not an ONNX model (protobuf: {ex.Message}).", ex);
        }
    }
}
