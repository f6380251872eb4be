using System.Diagnostics;
using System.Globalization;
using DANNet.Calibration.Cli;
using DANNet.Calibration.Frames;
using DANNet.Calibration.Measurement;
using DANNet.Calibration.Quantization;
using DANNet.Calibration.Statistics;
using DANNet.Calibration.Tables;
using DANNet.Model;
using DANNet.Model.IO;
using DANNet.Model.Onnx;
using DANNet.Trainer.Data;
using DANNet.Trainer.IO;
using Google.Protobuf;
using Onnx;

namespace DANNet.Calibration;

/// <summary>
/// INT8 calibration of an exported float model, the whole of it: the model checked, frames read as the runtime feeds them, activation
/// statistics, scales, the optional per-tensor sensitivity report, the Q/DQ model (checked for TensorRT readiness before it is written),
/// the TensorRT cache, and the float-against-int8 comparison. dannet-calibrate's command parses options into a <see cref="CalibrationRequest"/>.
/// </summary>
public static class Calibrator
{
    /// <summary>Calibrates, writes the Q/DQ model, the TensorRT cache and (unless --no-measure) the comparison report; 0 on success.</summary>
    public static int Run(CalibrationRequest r, TextWriter output, TextWriter error, CancellationToken cancel = default)
    {
        Validate(r);
        var (model, info) = ReadCalibratable(r.Model);
        int height = info.Height, width = info.Width;
        if (info.Card.FormatVersion is null)
            error.WriteLine($"warning: '{r.Model}' carries no DANNet metadata: calibrating it as a plain model.");
        // Frames go in as the daemon will feed this model: its own resize unless another is asked for.
        r = r with { Resize = r.Resize ?? info.Resize };
        // The labelled set is found before the long work starts, so that a wrong path fails in a second, not after the statistics.
        var evalSamples = r.EvalRoot is null || r.NoMeasure ? null : EvalSamples(r);

        var clock = Stopwatch.StartNew();
        var frames = CalibrationFrames.Read(r.Data, width, height, r.Frames, r.Resize!.Value);
        foreach (var u in frames.Unreadable.Take(5)) error.WriteLine($"warning: unreadable, skipped: {u}");
        if (frames.Unreadable.Count > 5) error.WriteLine($"warning: {frames.Unreadable.Count - 5} more unreadable frames skipped.");
        if (frames.Frames.Count < r.Frames)
            throw new ArgumentException($"--data '{r.Data}' gave {frames.Frames.Count} readable frame(s) ({frames.Unreadable.Count} unreadable); " +
                $"--frames asks for {r.Frames}. Give more data or lower --frames.");

        var plan = QuantizationPlan.For(model);
        var unknown = r.KeepFloat.Where(k => plan.All(t => t.Name != k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"--keep-float: {string.Join(", ", unknown.Select(u => $"'{u}'"))} is not a calibrated tensor of '{r.Model}' " +
                $"(names as the sensitivity report gives them, e.g. '{plan[0].Name}').");
        output.WriteLine($"{Path.GetFileName(r.Model)}: {width}x{height}, {plan.Count} activation tensors to calibrate, {frames.Frames.Count} frames ({r.Resize} resize)");
        Dictionary<string, AbsHistogram> histograms;
        using (var stats = new ActivationStatistics(model, plan))
        {
            var bar = Bar(error, "statistics", "passes");
            histograms = stats.Collect(frames.Frames, bar);
            bar.End();
        }
        var imageLike = plan.Where(t => t.ImageLike).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var scales = histograms.ToDictionary(kv => kv.Key,
            kv => ScaleCalibration.Scale(ScaleCalibration.Threshold(kv.Value, imageLike.Contains(kv.Key) ? CalibrationMethod.MinMax : r.Method, r.Percentile)),
            StringComparer.Ordinal);

        IReadOnlyList<TensorSensitivity>? sensitivity = null;
        var keep = new List<string>(r.KeepFloat);
        if (r.SensitivityFrames > 0)
        {
            var picked = ImageSamples.Spread(frames.Frames.Count, r.SensitivityFrames).Select(i => frames.Frames[i]).ToList();
            var bar = Bar(error, "sensitivity", "tensors");
            sensitivity = Sensitivity.Measure(model, plan, scales, picked, r.Threads, bar);
            bar.End();
            output.WriteLine($"most sensitive tensors (quantised alone; share of mask pixels changed on {picked.Count} frames):");
            foreach (var t in sensitivity.Take(Math.Max(10, r.KeepFloatTop)))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {t.ChangedPixels * 100,8:F3} %  {t.Tensor} ({t.Role})"));
            keep.AddRange(sensitivity.Take(r.KeepFloatTop).Select(t => t.Tensor).Where(t => !keep.Contains(t)));
        }
        if (keep.Count > 0) output.WriteLine($"kept in float: {string.Join(", ", keep)}");

        var quantized = QdqWriter.Quantize(model, scales, keep.ToHashSet(StringComparer.Ordinal));
        // Provenance: the float model's metadata is kept; these say what was done to it.
        string calibration = string.Create(CultureInfo.InvariantCulture,
            $"method={r.Method}{(r.Method == CalibrationMethod.Percentile ? $" percentile={r.Percentile}" : "")} frames={frames.Frames.Count} " +
            $"data={Path.GetFileName(Path.TrimEndingDirectorySeparator(r.Data))} resize={r.Resize} image-tensors=minmax" +
            $"{(keep.Count > 0 ? $" keep-float={string.Join(',', keep)}" : "")} source={Path.GetFileName(r.Model)} dannet-calibrate={ToolVersion()}");
        (info.Card with { Precision = ModelPrecision.Int8Qdq, Calibration = calibration }).WriteTo(quantized);
        // What goes to the car must build there: TensorRT's parser and its explicit-quantisation rules, checked before anything is written.
        var readiness = TensorRtReadiness.Check(quantized);
        if (!readiness.Ready)
            throw new InvalidDataException($"the quantised model of '{r.Model}' is not TensorRT-ready, nothing was written: " +
                string.Join("; ", readiness.Problems.Take(5)) + (readiness.Problems.Count > 5 ? $"; and {readiness.Problems.Count - 5} more" : "") +
                ". Keep the tensors named here in float (--keep-float), or report it: dannet-calibrate should never write such a model.");
        output.WriteLine($"TensorRT-ready: opset {readiness.Opset}, {readiness.Nodes} nodes, Q/DQ rules met");
        AtomicFile.WriteAllBytes(r.OutFile, quantized.ToByteArray());
        // The table has every calibrated tensor, kept-float ones too: TensorRT's implicit INT8 decides per layer itself.
        AtomicFile.WriteAllText(r.CacheFile, TensorRtCalibrationCache.Format(scales, CacheCalibrator(r.Method)));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {r.OutFile} ({new FileInfo(r.OutFile).Length / 1e6:F1} MB) and {r.CacheFile} ({scales.Count} tensors) in {clock.Elapsed.TotalSeconds:F1} s"));
        if (r.NoMeasure) return 0;

        var comparison = Compare(r, frames.Frames, evalSamples, error, cancel);
        output.WriteLine();
        output.WriteLine(CalibrationReport.Table(comparison));
        AtomicFile.WriteAllText(r.ReportFile, CalibrationReport.Serialize(CalibrationReport.Json(comparison, calibration, sensitivity, keep)));
        output.WriteLine($"report: {r.ReportFile}");
        return 0;
    }

    private static void Validate(CalibrationRequest r)
    {
        if (r.Frames < 1) throw new ArgumentException($"--frames {r.Frames}: at least 1.");
        if (!(r.Percentile > 0 && r.Percentile <= 100)) throw new ArgumentException($"--percentile {r.Percentile}: between 0 (excluded) and 100.");
        if (r.SensitivityFrames < 0 || r.SensitivityFrames > r.Frames)
            throw new ArgumentException($"--sensitivity {r.SensitivityFrames}: between 0 and --frames ({r.Frames}).");
        if (r.KeepFloatTop < 0 || (r.KeepFloatTop > 0 && r.SensitivityFrames == 0))
            throw new ArgumentException($"--keep-float-top {r.KeepFloatTop} needs --sensitivity <frames> (the ranking it takes the top of).");
        if (r.BenchRuns < 0 || r.EvalImages < 0 || r.Threads < 0) throw new ArgumentException("--bench-runs, --eval-images and --threads are 0 or more.");
        if (string.Equals(Path.GetFullPath(r.OutFile), Path.GetFullPath(r.Model), StringComparison.Ordinal))
            throw new ArgumentException($"--out '{r.OutFile}' is the float model itself: choose another file.");
    }

    /// <summary>
    /// The float model to calibrate, checked before any work: a file of sensible size that parses, holds its
    /// weights inside (no external data), follows the DANNet Edge model contract as ONNX Runtime loads it (which also
    /// refuses unknown operators and impossible initializers), is not already quantised, and has convolutions to
    /// quantise. Each problem is one line naming the file and the fix.
    /// </summary>
    public static (ModelProto Model, ModelInfo Info) ReadCalibratable(string path)
    {
        var model = OnnxModels.Read(path, $"--model '{path}'");
        if (model.Graph.Initializer.FirstOrDefault(i => i.DataLocation == TensorProto.Types.DataLocation.External) is { } external)
            throw new InvalidDataException($"--model '{path}': initializer '{external.Name}' keeps its data in an external file; calibrate a model that holds its " +
                "weights (dannet-train export writes one).");
        if (ModelCard.Of(model, path).Precision == ModelPrecision.Int8Qdq || model.Graph.Node.Any(n => n.OpType is "QuantizeLinear" or "DequantizeLinear"))
            throw new InvalidDataException($"--model '{path}' is already quantised (Q/DQ): calibrate the float model it was made from.");
        if (model.Graph.Input.FirstOrDefault()?.Type?.TensorType?.Shape?.Dim is { Count: 4 } dims && dims[0].DimValue > 1)
            throw new InvalidDataException($"--model '{path}' takes {dims[0].DimValue} images per run: calibrate the batch-1 export of the same weights " +
                "(dannet-train export without --batch); the scales hold for every batch size.");
        if (model.Graph.Node.All(n => n.OpType != "Conv"))
            throw new InvalidDataException($"--model '{path}' has no convolution to quantise: it is not a DANNet segmentation model.");
        try
        {
            // ONNX Runtime's own load and the model contract (uint8 image [1,H,W,3] in, uint8 mask out, sizes, classes, resize).
            using var session = SegmentationSession.OpenCpu(path, threads: 1);
            return (model, session.Info);
        }
        catch (Exception ex) when (ex is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidOperationException)
        {
            throw new InvalidDataException($"--model '{path}': ONNX Runtime cannot load it ({ex.Message.ReplaceLineEndings(" ")}).", ex);
        }
    }

    private static IReadOnlyList<LabelledSample> EvalSamples(CalibrationRequest r)
    {
        var all = LabelledSets.Load(r.EvalLayout, r.EvalRoot!, r.EvalSplit);
        return r.EvalImages == 0 || r.EvalImages >= all.Count ? all : ImageSamples.Spread(all.Count, r.EvalImages).Select(i => all[i]).ToList();
    }

    /// <summary>Float against int8 in one run: the same images through both (mIoU with eval's code, agreement), then interleaved timing.</summary>
    private static Comparison Compare(CalibrationRequest r, IReadOnlyList<byte[]> frames, IReadOnlyList<LabelledSample>? samples, TextWriter error,
        CancellationToken cancel)
    {
        EvaluationResult? floatEval = null, int8Eval = null;
        MaskAgreement agreement;
        string agreementOn;
        if (samples is not null)
        {
            using var f = new OnnxSegmenter(r.Model, r.Threads);
            using var q = new OnnxSegmenter(r.OutFile, r.Threads);
            var bar = Bar(error, "evaluation", "images");
            var (results, agree) = MaskEvaluation.Evaluate(new Func<OpenCvSharp.Mat, OpenCvSharp.Mat>[] { f.Segment, q.Segment }, $"{r.EvalRoot} ({r.EvalSplit})", samples,
                (i, n) => bar.Report((i, n)), cancel);
            bar.End();
            (floatEval, int8Eval, agreement, agreementOn) = (results[0], results[1], agree[1], $"{samples.Count} {r.EvalSplit} images");
        }
        else
        {
            using var f = SegmentationSession.OpenCpu(r.Model, r.Threads);
            using var q = SegmentationSession.OpenCpu(r.OutFile, r.Threads);
            agreement = MaskEvaluation.Agreement(Sensitivity.Masks(f, frames), Sensitivity.Masks(q, frames), i => $"calibration frame {i}");
            agreementOn = $"{frames.Count} calibration frames at the model's size";
        }
        LatencySummary? floatLatency = null, int8Latency = null;
        if (r.BenchRuns > 0)
        {
            using var f = SegmentationSession.OpenCpu(r.Model, r.Threads);
            using var q = SegmentationSession.OpenCpu(r.OutFile, r.Threads);
            var bar = Bar(error, "timing", "runs");
            var latency = ModelTiming.Interleaved([f, q], frames[0], r.BenchRuns, progress: bar);
            bar.End();
            (floatLatency, int8Latency) = (latency[0], latency[1]);
        }
        return new Comparison(r.Model, r.OutFile, new FileInfo(r.Model).Length, new FileInfo(r.OutFile).Length, floatEval, int8Eval, agreement, agreementOn,
            floatLatency, int8Latency, r.Threads);
    }

    /// <summary>A one-line progress counter, written synchronously (<see cref="Progress{T}"/> would post to the thread pool, out of order).</summary>
    private static Counter Bar(TextWriter error, string what, string unit) => new(error, what, unit);

    /// <summary>"statistics 12/128 passes" on the progress line.</summary>
    private sealed class Counter(TextWriter error, string what, string unit) : IProgress<(int Done, int Total)>
    {
        private readonly ProgressLine _line = new(error);

        public void Report((int Done, int Total) p) => _line.Report($"{what} {p.Done}/{p.Total} {unit}", p.Done, p.Total);

        public void End() => _line.End();
    }

    private static string ToolVersion() =>
        typeof(Calibrator).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "?";

    private static string CacheCalibrator(CalibrationMethod method) => method == CalibrationMethod.MinMax ? "MinMaxCalibration" : "EntropyCalibration2";
}
