using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DANNet.Calibration.Frames;
using DANNet.Calibration.Quantization;
using DANNet.Calibration.Statistics;
using DANNet.Calibration.Tables;
using DANNet.Edge.Contracts;
using Google.Protobuf;
using Onnx;

namespace DANNet.Calibration.Cli;

/// <summary>The calibration command (the tool's root command).</summary>
internal static class CalibrateCommand
{
    private static readonly Option<FileInfo> Model = new("--model", "-m") { Description = "The float model exported by dannet-train export.", Required = true };
    private static readonly Option<string> Data = new("--data", "-d") { Description = "Calibration frames: a video, a folder of images (searched " +
        "recursively; a Cityscapes or Dark Zurich root works) or an image.", Required = true };
    private static readonly Option<int> Count = new("--frames", "-n") { Description = "Frames to calibrate on, spread over the data.", DefaultValueFactory = _ => 64 };
    private static readonly Option<CalibrationMethod> Method = new("--method") { Description = "How each tensor's range is chosen: entropy (KL " +
        "divergence, as TensorRT's EntropyCalibration2), percentile or minmax.", DefaultValueFactory = _ => CalibrationMethod.Entropy, HelpName = "entropy|percentile|minmax" };
    private static readonly Option<double> Percentile = new("--percentile") { Description = "With --method percentile.", DefaultValueFactory = _ => 99.99 };
    private static readonly Option<InputResize> Resize = new("--resize") { Description = "Frame → model input resize, as the runtime's Model:Resize.",
        DefaultValueFactory = _ => InputResize.Area, HelpName = "area|antialiased|linear" };
    private static readonly Option<FileInfo?> Out = new("--out", "-o") { Description = "The quantised model (default: <model>.int8.onnx)." };
    private static readonly Option<FileInfo?> Cache = new("--cache") { Description = "The TensorRT calibration cache (default: <model>.calib)." };

    public static void Configure(RootCommand root)
    {
        foreach (var o in new Option[] { Model, Data, Count, Method, Percentile, Resize, Out, Cache }) root.Options.Add(o);
        root.SetAction(parse =>
        {
            try
            {
                return Run(parse.GetValue(Model)!.FullName, parse.GetValue(Data)!, parse.GetValue(Count), parse.GetValue(Method), parse.GetValue(Percentile),
                    parse.GetValue(Resize), parse.GetValue(Out)?.FullName, parse.GetValue(Cache)?.FullName, Console.Out, Console.Error);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException or InvalidProtocolBufferException)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return 1;
            }
        });
    }

    internal static int Run(string modelPath, string data, int count, CalibrationMethod method, double percentile, InputResize resize,
        string? outPath, string? cachePath, TextWriter output, TextWriter error)
    {
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"--model '{modelPath}' does not exist.", modelPath);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
        var input = model.Graph.Input.FirstOrDefault(i => i.Name == ModelContract.ImageInput)
            ?? throw new InvalidDataException($"'{modelPath}' has no input '{ModelContract.ImageInput}': export it with dannet-train export.");
        var dims = input.Type.TensorType.Shape.Dim.Select(d => d.DimValue).ToArray();
        if (dims.Length != 4 || dims[3] != 3) throw new InvalidDataException($"'{modelPath}': input '{ModelContract.ImageInput}' is not [1,H,W,3].");
        int height = (int)dims[1], width = (int)dims[2];
        if (!model.MetadataProps.Any(p => p.Key == ModelMetadataKeys.FormatVersion))
            error.WriteLine($"warning: '{modelPath}' carries no DANNet metadata: calibrating it as a plain model.");

        var clock = Stopwatch.StartNew();
        var frames = CalibrationFrames.Read(data, width, height, count, resize);
        foreach (var u in frames.Unreadable.Take(5)) error.WriteLine($"warning: unreadable, skipped: {u}");
        if (frames.Unreadable.Count > 5) error.WriteLine($"warning: {frames.Unreadable.Count - 5} more unreadable frames skipped.");
        if (frames.Frames.Count < count)
            throw new ArgumentException($"--data '{data}' gave {frames.Frames.Count} readable frame(s) ({frames.Unreadable.Count} unreadable); " +
                $"--frames asks for {count}. Give more data or lower --frames.");

        var plan = QuantizationPlan.For(model);
        output.WriteLine($"{Path.GetFileName(modelPath)}: {width}x{height}, {plan.Count} activation tensors to calibrate, {frames.Frames.Count} frames ({resize} resize)");
        Dictionary<string, AbsHistogram> histograms;
        using (var stats = new ActivationStatistics(model, plan))
            histograms = stats.Collect(frames.Frames, new Progress<(int Done, int Total)>(p => error.Write($"\r  statistics {p.Done}/{p.Total} passes")));
        error.WriteLine();
        var imageLike = plan.Where(t => t.ImageLike).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var scales = histograms.ToDictionary(kv => kv.Key,
            kv => ScaleCalibration.Scale(ScaleCalibration.Threshold(kv.Value, imageLike.Contains(kv.Key) ? CalibrationMethod.MinMax : method, percentile)),
            StringComparer.Ordinal);

        string outFile = outPath ?? Path.ChangeExtension(modelPath, ".int8.onnx");
        string cacheFile = cachePath ?? Path.ChangeExtension(modelPath, ".calib");
        var quantized = QdqWriter.Quantize(model, scales);
        // Provenance: the float model's metadata is kept; these say what was done to it.
        string tool = typeof(CalibrateCommand).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "?";
        SetMetadata(quantized, ModelMetadataKeys.Precision, "int8-qdq");
        SetMetadata(quantized, ModelMetadataKeys.Calibration, string.Create(CultureInfo.InvariantCulture,
            $"method={method}{(method == CalibrationMethod.Percentile ? $" percentile={percentile}" : "")} frames={frames.Frames.Count} " +
            $"data={Path.GetFileName(Path.TrimEndingDirectorySeparator(data))} " +
            $"resize={resize} image-tensors=minmax source={Path.GetFileName(modelPath)} dannet-calibrate={tool}"));
        Write(outFile, quantized.ToByteArray());
        Write(cacheFile, System.Text.Encoding.ASCII.GetBytes(TensorRtCalibrationCache.Format(scales, CacheCalibrator(method))));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {outFile} ({new FileInfo(outFile).Length / 1e6:F1} MB) and {cacheFile} ({scales.Count} tensors) in {clock.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }

    private static void SetMetadata(ModelProto model, string key, string value)
    {
        var existing = model.MetadataProps.FirstOrDefault(p => p.Key == key);
        if (existing is not null) existing.Value = value;
        else model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
    }

    private static string CacheCalibrator(CalibrationMethod method) => method == CalibrationMethod.MinMax ? "MinMaxCalibration" : "EntropyCalibration2";

    private static void Write(string path, byte[] bytes)
    {
        string temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }
}
