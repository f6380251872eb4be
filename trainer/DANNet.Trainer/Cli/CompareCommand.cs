using System.CommandLine;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Data;
using DANNet.Trainer.Evaluation;
using DANNet.Trainer.IO;
using DANNet.Trainer.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;

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
    private static readonly Option<FileInfo[]> Inputs = new("--input", "-i") { Description = "Images or folders of images instead of --data (no label column).",
        AllowMultipleArgumentsPerToken = true };
    private static readonly Option<FileInfo> Out = new("--out", "-o") { Description = "The PNG to write.", Required = true };
    private static readonly Option<int> TileWidth = new("--tile-width") { Description = "Width of each picture in the sheet.", DefaultValueFactory = _ => 320 };

    public static Command Create()
    {
        var command = new Command("compare", "Draw one PNG comparing models on the same images: input, brightened input, each model's prediction " +
            "(evaluation protocol) and the label, one row per image.")
        {
            Models, Data, EvalCommands.DataLayout, EvalCommands.Split, Count, Inputs, Out, TileWidth,
        };
        command.SetAction(parse => CliErrors.Run(Console.Error, () =>
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
                        var session = OnnxModel(location);
                        owned.Add(session);
                        models.Add(new ComparedModel(title, image => Segment(session, image)));
                    }
                    else
                    {
                        var source = ModelSource.Resolve(location);
                        var nets = source.Load();
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

    private static InferenceSession OnnxModel(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--model: '{path}' does not exist.", path);
        using var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, InterOpNumThreads = 1 };
        var session = new InferenceSession(path, options);
        if (!session.InputMetadata.TryGetValue(ModelContract.ImageInput, out var input) || input.Dimensions.Length != 4 || !session.OutputMetadata.ContainsKey(ModelContract.MaskOutput))
        {
            session.Dispose();
            throw new InvalidDataException($"--model: '{path}' is not an exported DANNet model (input '{ModelContract.ImageInput}' [1,H,W,3], output '{ModelContract.MaskOutput}').");
        }
        return session;
    }

    /// <summary>The exported graph's mask for <paramref name="image"/>: resized as evaluation resizes, mask scaled back by nearest neighbour.</summary>
    private static Mat Segment(InferenceSession session, Mat image)
    {
        var dims = session.InputMetadata[ModelContract.ImageInput].Dimensions;
        int h = dims[1], w = dims[2];
        using var resized = Evaluator.ResizeTo(image, w, h, InputResize.Antialiased);
        resized.GetArray(out Vec3b[] pixels);
        var bytes = new byte[h * w * 3];
        for (int i = 0; i < pixels.Length; i++) (bytes[3 * i], bytes[3 * i + 1], bytes[3 * i + 2]) = (pixels[i].Item0, pixels[i].Item1, pixels[i].Item2);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(ModelContract.ImageInput, new DenseTensor<byte>(bytes, [1, h, w, 3]))]);
        var mask = results.Single(r => r.Name == ModelContract.MaskOutput).AsTensor<byte>().ToArray();
        using var small = new Mat(h, w, MatType.CV_8UC1);
        small.SetArray(mask);
        return small.Resize(new Size(image.Cols, image.Rows), 0, 0, InterpolationFlags.Nearest);
    }

    private static IEnumerable<ComparedImage> Images(ParseResult parse)
    {
        if (parse.GetValue(Inputs) is { Length: > 0 } inputs)
            return EvalCommands.ExpandInputs(inputs).Select(f => new ComparedImage(Path.GetFileName(f), ImageFiles.ReadColor(f), null)).ToList();
        var root = parse.GetValue(Data)?.FullName ?? throw new ArgumentException("Give the images: --data <labelled set> or --input <images>.");
        string split = parse.GetValue(EvalCommands.Split)!;
        var samples = parse.GetValue(EvalCommands.DataLayout) == EvalCommands.Layout.Cityscapes
            ? new CityscapesDataset(root, split).Samples
            : DarkZurichDataset.LabelledNight(root, split).Samples;
        int count = Math.Clamp(parse.GetValue(Count), 1, samples.Count);
        return Enumerable.Range(0, count).Select(i => samples[i * samples.Count / count]).Select(s =>
        {
            var loaded = s.Load();
            return new ComparedImage(s.Name, loaded.Image, loaded.TrainIds);
        }).ToList();
    }
}
