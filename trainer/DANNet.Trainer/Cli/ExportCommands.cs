using DANNet.Trainer.Onnx;
using System.CommandLine;
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
    public static readonly Option<DirectoryInfo?> CheckpointDir = new("--checkpoint", "-c") { Description = "A checkpoint folder or a run folder (its latest checkpoint); the architecture is read from it." };
    public static readonly Option<FileInfo?> SegmentationPth = new("--segmentation") { Description = "Segmentation weights as a PyTorch .pth (e.g. the official dannet_psp.pth), instead of --checkpoint; needs --arch." };
    public static readonly Option<FileInfo?> LightPth = new("--light") { Description = "LightNet weights as a .pth (e.g. dannet_psp_light.pth), with --segmentation. Without it the graph does not relight." };
    public static readonly Option<string?> Arch = new("--arch") { Description = "Architecture of the .pth weights, e.g. pspnet-r101 (with --checkpoint: optional, must match)." };
    public static readonly Option<int> Height = new("--height") { Description = "Input and mask height (static; a multiple of 4 with LightNet).", DefaultValueFactory = _ => 540 };
    public static readonly Option<int> Width = new("--width") { Description = "Input and mask width (static; a multiple of 4 with LightNet).", DefaultValueFactory = _ => 960 };
    public static readonly Option<FileInfo> Out = new("--out", "-o") { Description = "The .onnx file to write (atomically).", Required = true };
    public static readonly Option<bool> WithProbabilities = new("--with-probabilities") { Description = "Add the output 'probabilities': re-weighted softmax, float32 [1,19,H,W]." };
    public static readonly Option<bool> WithRelit = new("--with-relit") { Description = "Add the output 'relit': the relit image x + r, float32 [1,3,H,W], normalised." };
    public static readonly Option<bool> NoVerify = new("--no-verify") { Description = "Skip the ONNX Runtime parity check against TorchSharp after export." };
    public static readonly Option<FileInfo?> VerifyImage = new("--verify-image") { Description = "Image for the parity check (resized to the export size); default: a generated test pattern." };

    public static Command Export()
    {
        var command = new Command("export", "Export a checkpoint as one TensorRT-ready ONNX graph: uint8 BGR image [1,H,W,3] → relight → segment → re-weight (s=0.16) → upsample → argmax → uint8 mask [1,H,W]. Then checks parity with ONNX Runtime and TensorRT readiness.")
        {
            CheckpointDir, SegmentationPth, LightPth, Arch, Height, Width, Out, WithProbabilities, WithRelit, NoVerify, VerifyImage,
        };
        command.SetAction(parse => CliErrors.Run(Console.Error, () =>
        {
            var (architecture, light, segmentation, provenance) = LoadWeights(parse);
            using var l = light;
            using var s = segmentation;
            var options = new ExportOptions(parse.GetValue(Height), parse.GetValue(Width), parse.GetValue(WithProbabilities), parse.GetValue(WithRelit) && light is not null);
            string path = parse.GetValue(Out)!.FullName;
            return Run(architecture, light, segmentation, options, provenance, path, !parse.GetValue(NoVerify), parse.GetValue(VerifyImage)?.FullName, Console.Out);
        }));
        return command;
    }

    internal static int Run(ArchitectureSpec architecture, LightNet? light, SegmentationNet segmentation, ExportOptions options, ExportProvenance provenance,
        string path, bool verify, string? verifyImage, TextWriter output)
    {
        var model = DannetExporter.Export(architecture, light, segmentation, options, provenance);
        var bytes = model.ToByteArray();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, bytes);
        output.WriteLine($"wrote {path} ({bytes.Length / 1e6:F1} MB): {architecture}, input {options.Height}x{options.Width}, {model.Graph.Node.Count} nodes, opset {DannetExporter.Opset}");
        int status = 0;
        if (verify)
        {
            using var image = verifyImage is null ? TestPattern(options.Height, options.Width) : LoadResized(verifyImage, options.Height, options.Width);
            var parity = OnnxParity.Check(architecture, light, segmentation, image);
            bool ok = parity.MaxAbsLogitDiff <= 1e-4 && parity.MaskAgreement >= 0.999;
            output.WriteLine($"parity (ONNX Runtime CPU vs TorchSharp): {parity} — {(ok ? "OK" : "ABOVE the 1e-4 / 99.9 % bounds")}");
            if (!ok) status = 1;
        }
        var report = TensorRtReadiness.Check(model);
        output.Write(report);
        return report.Ready ? status : 1;
    }

    private static (ArchitectureSpec, LightNet?, SegmentationNet, ExportProvenance) LoadWeights(ParseResult parse)
    {
        var checkpoint = parse.GetValue(CheckpointDir);
        var segmentationPth = parse.GetValue(SegmentationPth);
        var lightPth = parse.GetValue(LightPth);
        string? arch = parse.GetValue(Arch);
        if ((checkpoint is null) == (segmentationPth is null))
            throw new ArgumentException("Give either --checkpoint (a run or checkpoint folder) or --segmentation (a .pth, with --arch).");
        if (checkpoint is not null)
        {
            if (lightPth is not null) throw new ArgumentException("--light goes with --segmentation; a checkpoint folder has its own LightNet.");
            string dir = EvalCommands.ResolveCheckpointDir(checkpoint.FullName);
            var state = CheckpointStore.ReadState(dir);
            var architecture = ArchitectureSpec.Parse(state.Architecture);
            if (arch is not null && ArchitectureSpec.Parse(arch) != architecture)
                throw new ArgumentException($"--arch {arch} does not match the checkpoint's architecture {architecture} ({dir}).");
            var nets = DannetNets.Create(architecture, state.UseLight, withDiscriminators: false);
            CheckpointStore.Load(dir, nets);
            return (architecture, nets.Light, nets.Segmentation, new ExportProvenance($"{dir} (iteration {state.Iteration}, {state.Mode})", state.ConfigHash));
        }
        if (arch is null) throw new ArgumentException("--segmentation needs --arch (e.g. pspnet-r101 for the official dannet_psp.pth).");
        var spec = ArchitectureSpec.Parse(arch);
        var segmentation = spec.CreateSegmentationNet();
        Checkpoint.Load(segmentation, segmentationPth!.FullName);
        LightNet? light = null;
        if (lightPth is not null)
        {
            light = spec.CreateLightNet();
            Checkpoint.Load(light, lightPth.FullName);
        }
        string source = segmentationPth.FullName + (lightPth is null ? "" : " + " + lightPth.FullName);
        return (spec, light, segmentation, new ExportProvenance(source));
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
        var command = new Command("check-onnx", "Check an ONNX model against TensorRT's ONNX parser: supported operators and attributes, opset 9–20, static shapes, UINT8 only at inputs/outputs, no float64, no int64 weights. Exit 1 on any problem.")
        {
            file,
        };
        command.SetAction(parse => CliErrors.Run(Console.Error, () =>
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
