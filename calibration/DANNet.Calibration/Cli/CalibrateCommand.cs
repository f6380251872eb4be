using System.CommandLine;
using DANNet.Calibration.Statistics;
using DANNet.Edge.Contracts;
using DANNet.Model;
using DANNet.Trainer.Data;

namespace DANNet.Calibration.Cli;

/// <summary>The calibration command (the tool's root command).</summary>
internal static class CalibrateCommand
{
    private static readonly Option<FileInfo> Model = new("--model", "-m") { Description = "The float model exported by dannet-train export.", Required = true };
    private static readonly Option<string> Data = new("--data", "-d") { Description = "Calibration frames: a video, a folder of images (searched " +
        "recursively; a Cityscapes or Dark Zurich root works) or an image.", Required = true };
    private static readonly Option<int> Count = new("--frames", "-n") { Description = "Frames to calibrate on, spread over the data.", DefaultValueFactory = _ => 64 };
    private static readonly Option<CalibrationMethod> Method = new("--method") { Description = "How each tensor's range is chosen: percentile (of |x|; " +
        "the default, chosen by measurement: docs/calibration.md), entropy (KL divergence, as TensorRT's EntropyCalibration2) or minmax.",
        DefaultValueFactory = _ => CalibrationMethod.Percentile, HelpName = "percentile|entropy|minmax" };
    private static readonly Option<double> Percentile = new("--percentile") { Description = "With --method percentile.", DefaultValueFactory = _ => 99.99 };
    private static readonly Option<InputResize?> Resize = new("--resize") { Description = "Frame → model input resize, as the runtime's Model:Resize; " +
        "default: the model's own (its dannet.resize; area if it names none).", HelpName = "antialiased|area|linear" };
    private static readonly Option<FileInfo?> Out = new("--out", "-o") { Description = "The quantised model (default: <model>.int8.onnx)." };
    private static readonly Option<FileInfo?> Cache = new("--cache") { Description = "The TensorRT calibration cache (default: next to --out, <out>.calib)." };
    private static readonly Option<FileInfo?> Report = new("--report") { Description = "The measurement report, JSON (default: <out>.report.json)." };
    private static readonly Option<string[]> KeepFloat = new("--keep-float") { Description = "Tensors to leave in float (names as the sensitivity " +
        "report gives them; a Conv output keeps that Conv's weights float too). Repeat or separate with commas.", AllowMultipleArgumentsPerToken = true };
    private static readonly Option<int> SensitivityFrames = new("--sensitivity") { Description = "Per-tensor sensitivity report on this many of the " +
        "calibration frames: each tensor quantised alone, the share of mask pixels it changes (slow: one model per tensor). 0: no report.",
        DefaultValueFactory = _ => 0, HelpName = "frames" };
    private static readonly Option<int> KeepFloatTop = new("--keep-float-top") { Description = "With --sensitivity: keep the N most sensitive tensors in float.",
        DefaultValueFactory = _ => 0 };
    private static readonly Option<DirectoryInfo?> Eval = new("--eval") { Description = "A labelled data set root: float and int8 mIoU on it with " +
        "dannet-train eval's code (PIL-style antialiased resize, mask scaled to the label). Without it, mask agreement on the calibration frames only." };
    private static readonly Option<DatasetLayout> Layout = new("--eval-layout") { Description = "Layout of --eval.",
        DefaultValueFactory = _ => DatasetLayout.DarkZurich, HelpName = "darkzurich|cityscapes" };
    private static readonly Option<string> Split = new("--eval-split") { Description = "Split of --eval (Dark Zurich: val or test, night images).",
        DefaultValueFactory = _ => "val" };
    private static readonly Option<int> EvalImages = new("--eval-images") { Description = "Evaluate on this many images spread over the split (0: all).",
        DefaultValueFactory = _ => 0 };
    private static readonly Option<int> Bench = new("--bench-runs") { Description = "Timed inference runs of each model on the CPU, interleaved, after " +
        "warm-up (0: no timing).", DefaultValueFactory = _ => 20 };
    private static readonly Option<int> Threads = new("--threads") { Description = "ONNX Runtime intra-op threads when measuring (0: its default).",
        DefaultValueFactory = _ => 0 };
    private static readonly Option<bool> NoMeasure = new("--no-measure") { Description = "Only write the model and the cache: no comparison with the float model." };

    public static void Configure(RootCommand root)
    {
        foreach (var o in new Option[] { Model, Data, Count, Method, Percentile, Resize, Out, Cache, Report, KeepFloat, SensitivityFrames, KeepFloatTop,
                     Eval, Layout, Split, EvalImages, Bench, Threads, NoMeasure })
            root.Options.Add(o);
        root.SetAction((parse, cancel) =>
        {
            try
            {
                var request = new CalibrationRequest(parse.GetValue(Model)!.FullName, parse.GetValue(Data)!)
                {
                    Frames = parse.GetValue(Count), Method = parse.GetValue(Method), Percentile = parse.GetValue(Percentile), Resize = parse.GetValue(Resize),
                    Out = parse.GetValue(Out)?.FullName, Cache = parse.GetValue(Cache)?.FullName, Report = parse.GetValue(Report)?.FullName,
                    KeepFloat = (parse.GetValue(KeepFloat) ?? []).SelectMany(k => k.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList(),
                    SensitivityFrames = parse.GetValue(SensitivityFrames), KeepFloatTop = parse.GetValue(KeepFloatTop),
                    EvalRoot = parse.GetValue(Eval)?.FullName, EvalLayout = parse.GetValue(Layout), EvalSplit = parse.GetValue(Split)!,
                    EvalImages = parse.GetValue(EvalImages), BenchRuns = parse.GetValue(Bench), Threads = parse.GetValue(Threads), NoMeasure = parse.GetValue(NoMeasure),
                };
                return Task.FromResult(Calibrator.Run(request, Console.Out, Console.Error, cancel));
            }
            catch (Exception ex) when (CommandErrors.IsFixable(ex))
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return Task.FromResult(1);
            }
        });
    }
}
