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
    public static readonly Option<int> Batch = new("--batch") { Description = "Images per run (static): several cameras through one engine " +
        "(dannet-edge gathers the newest frame of each camera). 1: one image per run.", DefaultValueFactory = _ => 1, HelpName = "N" };
    public static readonly Option<FileInfo?> VerifyImage = new("--verify-image") { Description = "Image for the parity check (resized to the export size); default: a generated test pattern." };

    public static Command Export()
    {
        var command = new Command("export", "Export a checkpoint as one TensorRT-ready ONNX graph: uint8 BGR image [1,H,W,3] → relight → segment → " +
            "re-weight (s=0.16) → upsample → argmax → uint8 mask [1,H,W]. Then checks parity with ONNX Runtime and TensorRT readiness.")
        {
            Height, Width, Out, WithProbabilities, WithRelit, Resize, Batch, NoVerify, VerifyImage,
        };
        foreach (var option in ModelSourceOptions.All) command.Options.Add(option);
        command.SetAction(parse => CommandErrors.Run(Console.Error, () =>
        {
            var source = ModelSourceOptions.Resolve(parse);
            using var nets = source.Load(TorchSharp.torch.CPU, note => Console.Error.WriteLine(note)); // traced and checked for parity on the CPU
            var options = new ExportOptions(source.Inference.WithSize(parse.GetValue(Height), parse.GetValue(Width)))
                with { Probabilities = parse.GetValue(WithProbabilities), Relit = parse.GetValue(WithRelit) && nets.Light is not null, Resize = parse.GetValue(Resize),
                    Batch = parse.GetValue(Batch) };
            string path = parse.GetValue(Out)!.FullName;
            var provenance = new ExportProvenance(source.Description, source.ConfigHash);
            return ModelExport.Write(source.Architecture, nets.Light, nets.Segmentation, options, provenance, path, !parse.GetValue(NoVerify),
                parse.GetValue(VerifyImage)?.FullName, Console.Out) ? 0 : 1;
        }));
        return command;
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
            var model = OnnxModels.Read(path);
            var report = TensorRtReadiness.Check(model);
            Console.WriteLine(path);
            Console.Write(report);
            return report.Ready ? 0 : 1;
        }));
        return command;
    }
}
