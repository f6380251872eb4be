using System.CommandLine;
using DANNet.Edge.Contracts;
using DANNet.Edge.Inference;
using DANNet.Trainer.Data;
using DANNet.Trainer.Evaluation;
using DANNet.Trainer.IO;
using DANNet.Trainer.Losses;
using DANNet.Trainer.Models;
using DANNet.Trainer.Training;
using OpenCvSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train eval</c>, <c>predict</c> and <c>stats</c>.</summary>
internal static class EvalCommands
{
    public enum Layout { DarkZurich, Cityscapes }

    public static readonly Option<DirectoryInfo> Data = new("--data") { Description = "Data set root (Dark Zurich or Cityscapes layout).", Required = true };
    public static readonly Option<Layout> DataLayout = new("--layout") { Description = "darkzurich (labelled night val/test) or " +
        "cityscapes.", DefaultValueFactory = _ => Layout.DarkZurich, HelpName = "darkzurich|cityscapes" };
    public static readonly Option<string> Split = new("--split") { Description = "Split to evaluate or count.", DefaultValueFactory = _ => "val" };
    public static readonly Option<int?> Height = new("--height") { Description = "Evaluation input height. Default: the model's (recorded in its checkpoint; the reference's 540 for .pth weights)." };
    public static readonly Option<int?> Width = new("--width") { Description = "Evaluation input width. Default: the model's (the reference's 960 for .pth weights)." };
    public static readonly Option<DirectoryInfo?> Out = new("--out", "-o") { Description = "Where iou.json, confusion.csv (and with --colour, the predictions) go." };
    public static readonly Option<DirectoryInfo> PredictOut = new("--out", "-o") { Description = "Where the trainId and colour PNGs go.", Required = true };
    public static readonly Option<bool> Colour = new("--colour") { Description = "Also write every prediction as trainId and colour PNGs." };
    public static readonly Option<FileInfo?> Onnx = new("--onnx") { Description = "Evaluate an exported model (float or int8 Q/DQ) with ONNX Runtime on " +
        "the CPU instead of a checkpoint: its mask, at its input size, is scaled to the label by nearest neighbour." };
    public static readonly Option<InputResize> Resize = new("--resize") { Description = "How images are resized to the evaluation size: antialiased " +
        "(PIL's antialiased bilinear, the reference's; the default), linear (OpenCV's plain bilinear) or area (OpenCV's pixel-area average).",
        DefaultValueFactory = _ => InputResize.Antialiased, HelpName = "antialiased|linear|area" };
    public static readonly Option<FileInfo[]> Inputs = new("--input", "-i") { Description = "Images or folders of images (.png, .jpg).", Required = true, AllowMultipleArgumentsPerToken = true };

    public static Command Eval()
    {
        var command = new Command("eval", "Evaluate a checkpoint with the reference protocol (relight, re-weight s=0.16, bilinear upsample, argmax): per-class IoU, mIoU, confusion matrix CSV.")
        {
            Data, DataLayout, Split, Height, Width, Resize, Onnx, Out, Colour,
        };
        foreach (var option in ModelSourceOptions.All) command.Options.Add(option);
        command.SetAction((parse, cancel) => Task.FromResult(CliErrors.Run(Console.Error, () =>
        {
            string root = parse.GetValue(Data)!.FullName, split = parse.GetValue(Split)!;
            var samples = parse.GetValue(DataLayout) == Layout.Cityscapes
                ? new CityscapesDataset(root, split).Samples
                : DarkZurichDataset.LabelledNight(root, split).Samples;
            string? outDir = parse.GetValue(Out)?.FullName;
            EvaluationResult result;
            if (parse.GetValue(Onnx) is { } onnx)
            {
                using var segmenter = new OnnxSegmenter(onnx.FullName, resize: parse.GetValue(Resize));
                result = MaskEvaluation.Evaluate(segmenter.Segment, $"{root} ({split})", samples, (i, n) => Console.Error.Write($"\r  {i}/{n} images"), cancel);
            }
            else
            {
                var source = ModelSourceOptions.Resolve(parse);
                var settings = source.Inference.WithSize(parse.GetValue(Height), parse.GetValue(Width));
                using var nets = source.Load();
                result = Evaluator.Evaluate(nets, $"{root} ({split})", samples, settings.Height, settings.Width, settings.ClassWeights(),
                    parse.GetValue(Colour) && outDir is not null ? Path.Combine(outDir, "predictions") : null,
                    (i, n) => Console.Error.Write($"\r  {i}/{n} images"), cancel, parse.GetValue(Resize));
            }
            Console.Error.WriteLine();
            Console.WriteLine(EvaluationReport.Table(result));
            if (outDir is not null) EvaluationReport.Write(outDir, result);
            return 0;
        })));
        return command;
    }

    public static Command Predict()
    {
        var command = new Command("predict", "Segment images or folders: trainId PNGs and colour PNGs.")
        {
            Inputs, Height, Width, Resize, PredictOut,
        };
        foreach (var option in ModelSourceOptions.All) command.Options.Add(option);
        command.SetAction((parse, cancel) => Task.FromResult(CliErrors.Run(Console.Error, () =>
        {
            string outDir = parse.GetValue(PredictOut)!.FullName;
            var files = ExpandInputs(parse.GetValue(Inputs)!);
            var source = ModelSourceOptions.Resolve(parse);
            var settings = source.Inference.WithSize(parse.GetValue(Height), parse.GetValue(Width));
            using var nets = source.Load();
            using var weights = tensor(settings.ClassWeights()).view(1, -1, 1, 1);
            foreach (var file in files)
            {
                cancel.ThrowIfCancellationRequested();
                using var image = ImageFiles.ReadColor(file);
                using var prediction = Evaluator.Predict(nets, image, settings.Height, settings.Width, weights, image.Rows, image.Cols, parse.GetValue(Resize));
                Evaluator.WritePrediction(outDir, Path.GetFileNameWithoutExtension(file), prediction);
                Console.WriteLine($"{file} → {Path.Combine(outDir, Path.GetFileNameWithoutExtension(file))}_{{trainIds,colour}}.png");
            }
            return 0;
        })));
        return command;
    }

    public static Command Stats()
    {
        var output = new Option<FileInfo>("--out", "-o") { Description = "Where to write the frequencies (JSON for data.classFrequencies).", Required = true };
        var command = new Command("stats", "Class pixel frequencies of a labelled set, for the probability re-weighting (data.classFrequencies).")
        {
            Data, DataLayout, Split, output,
        };
        command.SetAction(parse => CliErrors.Run(Console.Error, () =>
        {
            string root = parse.GetValue(Data)!.FullName, split = parse.GetValue(Split)!;
            var samples = parse.GetValue(DataLayout) == Layout.Cityscapes ? new CityscapesDataset(root, split).Samples : DarkZurichDataset.LabelledNight(root, split).Samples;
            var counts = ClassPixelCounter.Count(samples.Select(s => s.LabelPath), LabelFormat.CityscapesLabelIds);
            string path = parse.GetValue(output)!.FullName;
            ClassFrequencyFile.Write(path, counts, $"{root} ({split}, {samples.Count} labels)");
            var weights = ClassWeights.FromFrequencies(ClassWeights.Frequencies(counts), ClassWeights.TrainingStrength);
            for (int c = 0; c < weights.Length; c++)
                Console.WriteLine($"{Edge.Contracts.CityscapesClasses.All[c].Name,-14} {100 * counts.Fraction(c),7:F3} %   weight(s=0.05) {weights[c]:F4}");
            Console.WriteLine($"written to {path}");
            return 0;
        }));
        return command;
    }

    internal static List<string> ExpandInputs(FileInfo[] inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (Directory.Exists(input.FullName))
                files.AddRange(Directory.EnumerateFiles(input.FullName)
                    .Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal));
            else if (File.Exists(input.FullName)) files.Add(input.FullName);
            else throw new ArgumentException($"Input '{input.FullName}' is neither an image nor a folder.");
        }
        if (files.Count == 0) throw new ArgumentException("No .png or .jpg images in the inputs.");
        return files;
    }
}
