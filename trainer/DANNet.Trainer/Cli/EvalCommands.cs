using DANNet.Model;
using System.CommandLine;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Data;
using DANNet.Trainer.Evaluation;
using DANNet.Trainer.Torch;
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
    public static readonly Option<DirectoryInfo> Data = new("--data") { Description = "Data set root (Dark Zurich or Cityscapes layout).", Required = true };
    public static readonly Option<int?> Height = new("--height") { Description = "Evaluation input height. Default: the model's (recorded in its checkpoint; the reference's 540 for .pth weights)." };
    public static readonly Option<int?> Width = new("--width") { Description = "Evaluation input width. Default: the model's (the reference's 960 for .pth weights)." };
    public static readonly Option<DirectoryInfo?> Out = new("--out", "-o") { Description = "Where iou.json, confusion.csv (and with --colour, the predictions) go." };
    public static readonly Option<DirectoryInfo> PredictOut = new("--out", "-o") { Description = "Where the trainId and colour PNGs go.", Required = true };
    public static readonly Option<bool> Colour = new("--colour") { Description = "Also write every prediction as trainId and colour PNGs." };
    public static readonly Option<FileInfo?> Onnx = new("--onnx") { Description = "An exported model (float or int8 Q/DQ) instead of a checkpoint, run " +
        "with ONNX Runtime on the CPU exactly as dannet-edge runs it: its mask, at its input size, is scaled to the image by nearest neighbour." };
    public static readonly Option<InputResize?> Resize = new("--resize") { Description = "How images are resized to the model's input: antialiased " +
        "(PIL's antialiased bilinear, the reference's), linear (OpenCV's plain bilinear) or area (OpenCV's pixel-area average). Default: antialiased " +
        "for checkpoints; for --onnx the model's own (its dannet.resize, as dannet-edge uses it).", HelpName = "antialiased|linear|area" };
    public static readonly Option<string?> Device = new("--device") { Description = "Where a checkpoint's nets run: cpu, cuda, cuda:N or auto " +
        "(CUDA when this build and machine have it; the default). --onnx runs on ONNX Runtime's CPU provider.", HelpName = "cpu|cuda[:N]|auto" };
    public static readonly Option<string[]> Inputs = new("--input", "-i") { Description = "Images, folders (searched recursively for colour " +
        ".png/.jpg) or videos (.avi, .mp4, .mkv, .mov, .webm: every frame).", Required = true, AllowMultipleArgumentsPerToken = true };

    public static Command Eval()
    {
        var command = new Command("eval", "Evaluate a checkpoint with the reference protocol (relight, re-weight s=0.16, bilinear upsample, argmax): per-class IoU, mIoU, confusion matrix CSV.")
        {
            Data, SharedOptions.DataLayout, SharedOptions.Split, Height, Width, Resize, Onnx, Out, Colour, Device,
        };
        foreach (var option in ModelSourceOptions.All) command.Options.Add(option);
        command.SetAction((parse, cancel) => Task.FromResult(CommandErrors.Run(Console.Error, () =>
        {
            string root = parse.GetValue(Data)!.FullName, split = parse.GetValue(SharedOptions.Split)!;
            var samples = LabelledSets.Load(parse.GetValue(SharedOptions.DataLayout), root, split);
            string? outDir = parse.GetValue(Out)?.FullName;
            EvaluationResult result;
            var line = new ProgressLine(Console.Error);
            void Counter(int i, int n) => line.Report($"{i}/{n} images", i, n);
            if (parse.GetValue(Onnx) is { } onnx)
            {
                RefuseCheckpointOptionsWithOnnx(parse);
                using var segmenter = new OnnxSegmenter(onnx.FullName, resize: parse.GetValue(Resize));
                result = MaskEvaluation.Evaluate(segmenter.Segment, $"{root} ({split})", samples, Counter, cancel);
            }
            else
            {
                var device = TrainingDevice.Resolve(parse.GetValue(Device) ?? TrainingDevice.Auto, "--device"); // before any file is read
                var source = ModelSourceOptions.Resolve(parse);
                var settings = source.Inference.WithSize(parse.GetValue(Height), parse.GetValue(Width));
                using var nets = source.Load(device, note => Console.Error.WriteLine(note));
                result = Evaluator.Evaluate(nets, $"{root} ({split})", samples, settings.Height, settings.Width, settings.ClassWeights(),
                    parse.GetValue(Colour) && outDir is not null ? Path.Combine(outDir, "predictions") : null,
                    Counter, cancel, parse.GetValue(Resize) ?? InputResize.Antialiased);
            }
            line.End();
            Console.WriteLine(EvaluationReport.Table(result));
            if (outDir is not null) EvaluationReport.Write(outDir, result);
            return 0;
        })));
        return command;
    }

    public static Command Predict()
    {
        var command = new Command("predict", "Segment images, folders (recursively) or videos with a checkpoint or an exported model (--onnx): " +
            "a trainId PNG and a colour PNG per image, named after it.")
        {
            Inputs, Height, Width, Resize, Onnx, PredictOut, Device,
        };
        foreach (var option in ModelSourceOptions.All) command.Options.Add(option);
        command.SetAction((parse, cancel) => Task.FromResult(CommandErrors.Run(Console.Error, () =>
        {
            string outDir = parse.GetValue(PredictOut)!.FullName;
            if (parse.GetValue(Onnx) is not null) RefuseCheckpointOptionsWithOnnx(parse);
            var inputs = ImageInputs.Check(parse.GetValue(Inputs)!);
            Func<Mat, Mat> segment;
            IDisposable model;
            if (parse.GetValue(Onnx) is { } onnx)
            {
                var segmenter = new OnnxSegmenter(onnx.FullName, resize: parse.GetValue(Resize));
                Console.Error.WriteLine($"{segmenter.Info.Architecture} {segmenter.Width}x{segmenter.Height} from {segmenter.Path}, input resize {InputResizes.Name(segmenter.Resize)}");
                (segment, model) = (image => segmenter.Segment(image), segmenter);
            }
            else
            {
                var device = TrainingDevice.Resolve(parse.GetValue(Device) ?? TrainingDevice.Auto, "--device"); // before any file is read
                var source = ModelSourceOptions.Resolve(parse);
                var settings = source.Inference.WithSize(parse.GetValue(Height), parse.GetValue(Width));
                var nets = source.Load(device, note => Console.Error.WriteLine(note));
                var weights = tensor(settings.ClassWeights(), device: device).view(1, -1, 1, 1);
                var resize = parse.GetValue(Resize) ?? InputResize.Antialiased;
                segment = image =>
                {
                    using var prediction = Evaluator.Predict(nets, image, settings.Height, settings.Width, weights, image.Rows, image.Cols, resize);
                    return Evaluator.TrainIdMat(prediction);
                };
                model = new Disposables(weights, nets);
            }
            using (model)
            {
                int n = 0;
                foreach (var (name, image) in ImageInputs.Read(inputs))
                {
                    cancel.ThrowIfCancellationRequested();
                    using (image)
                    using (var mask = segment(image))
                        Evaluator.WritePrediction(outDir, name, mask);
                    n++;
                    Console.WriteLine($"{name} → {Path.Combine(outDir, name)}_{{trainIds,colour}}.png");
                }
                Console.Error.WriteLine($"{n} images segmented into {outDir}");
            }
            return 0;
        })));
        return command;
    }

    /// <summary>--onnx runs the exported model as it is: checkpoint options and an evaluation size have nothing to act on.</summary>
    private static void RefuseCheckpointOptionsWithOnnx(ParseResult parse)
    {
        var given = ModelSourceOptions.All.Append(Height).Append(Width).Append(Device).Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 0)
            throw new ArgumentException($"--onnx runs the exported model at its own input size with its own weights: leave out {string.Join(", ", given)}.");
    }

    /// <summary>Disposes several owners in order.</summary>
    private sealed class Disposables(params IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items) item.Dispose();
        }
    }

    public static Command Stats()
    {
        var output = new Option<FileInfo>("--out", "-o") { Description = "Where to write the frequencies (JSON for data.classFrequencies).", Required = true };
        var command = new Command("stats", "Class pixel frequencies of a labelled set, for the probability re-weighting (data.classFrequencies).")
        {
            Data, SharedOptions.DataLayout, SharedOptions.Split, output,
        };
        command.SetAction(parse => CommandErrors.Run(Console.Error, () =>
        {
            string root = parse.GetValue(Data)!.FullName, split = parse.GetValue(SharedOptions.Split)!;
            var samples = LabelledSets.Load(parse.GetValue(SharedOptions.DataLayout), root, split);
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
}
