using DANNet.Model;
using System.CommandLine;
using DANNet.Trainer.Data;
using DANNet.Trainer.Evaluation;
using DANNet.Trainer.IO;
using DANNet.Trainer.Training;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train compare</c>: a picture of several models' predictions on the same images.</summary>
internal static class CompareCommand
{
    private static readonly Option<string[]> Models = new("--model", "-m")
    {
        Description = "A model as title=run-or-checkpoint-folder or title=exported.onnx (run by ONNX Runtime on the CPU) — repeatable, in column " +
            "order, e.g. --model source-only=runs/so --model DANNet=runs/dannet.",
        Required = true,
    };

    private static readonly Option<DirectoryInfo?> Data = new("--data") { Description = "A labelled set to take images (and labels) from: Dark Zurich layout " +
        "(night val/test) or, with --layout cityscapes, Cityscapes." };
    private static readonly Option<int> Count = new("--count") { Description = "Images taken from --data, spread over the split.", DefaultValueFactory = _ => 3 };
    private static readonly Option<FileInfo[]> Inputs = new("--input", "-i") { Description = "Images, folders of images (recursively) or videos instead of --data (no label column).",
        AllowMultipleArgumentsPerToken = true };
    private static readonly Option<FileInfo> Out = new("--out", "-o") { Description = "The PNG to write.", Required = true };
    private static readonly Option<int> TileWidth = new("--tile-width") { Description = "Width of each picture in the sheet.", DefaultValueFactory = _ => 320 };

    public static Command Create()
    {
        var command = new Command("compare", "Draw one PNG comparing models on the same images: input, brightened input, each model's prediction " +
            "(evaluation protocol) and the label, one row per image.")
        {
            Models, Data, SharedOptions.DataLayout, SharedOptions.Split, Count, Inputs, Out, TileWidth,
        };
        command.SetAction(parse => CommandErrors.Run(Console.Error, () =>
        {
            var models = new List<ComparedModel>();
            var images = new List<ComparedImage>();
            var owned = new List<IDisposable>();
            try
            {
                foreach (var spec in parse.GetValue(Models)!)
                {
                    int eq = spec.IndexOf('=');
                    if (eq <= 0 || eq == spec.Length - 1) throw new ArgumentException($"--model '{spec}': expected title=run-or-checkpoint-folder or title=model.onnx.");
                    string title = spec[..eq], location = spec[(eq + 1)..];
                    if (location.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                    {
                        var segmenter = new OnnxSegmenter(location);
                        owned.Add(segmenter);
                        models.Add(new ComparedModel(title, segmenter.Segment));
                    }
                    else
                    {
                        var source = ModelSource.Resolve(location);
                        var nets = source.Load(TorchSharp.torch.CPU, note => Console.Error.WriteLine(note));
                        owned.Add(nets);
                        models.Add(ComparedModel.Of(title, nets, source.Inference));
                    }
                }
                images.AddRange(Images(parse));
                using var sheet = ComparisonSheet.Draw(images, models, parse.GetValue(TileWidth));
                string path = parse.GetValue(Out)!.FullName;
                ComparisonSheet.Write(path, sheet);
                Console.WriteLine($"{path}: {images.Count} image(s) x {models.Count} model(s), {sheet.Width}x{sheet.Height}");
                return 0;
            }
            finally
            {
                foreach (var o in owned) o.Dispose();
                foreach (var i in images) i.Dispose();
            }
        }));
        return command;
    }

    private static IEnumerable<ComparedImage> Images(ParseResult parse)
    {
        if (parse.GetValue(Inputs) is { Length: > 0 } inputs)
            return ImageInputs.Read(inputs.Select(i => i.FullName)).Select(f => new ComparedImage(f.Name, f.Image, null)).ToList();
        var root = parse.GetValue(Data)?.FullName ?? throw new ArgumentException("Give the images: --data <labelled set> or --input <images>.");
        string split = parse.GetValue(SharedOptions.Split)!;
        var samples = LabelledSets.Load(parse.GetValue(SharedOptions.DataLayout), root, split);
        int count = Math.Clamp(parse.GetValue(Count), 1, samples.Count);
        return Enumerable.Range(0, count).Select(i => samples[i * samples.Count / count]).Select(s =>
        {
            var loaded = s.Load();
            return new ComparedImage(s.Name, loaded.Image, loaded.TrainIds);
        }).ToList();
    }
}
