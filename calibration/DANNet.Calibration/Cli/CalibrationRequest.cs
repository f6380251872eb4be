using DANNet.Trainer.Data;
using DANNet.Calibration.Statistics;
using DANNet.Edge.Contracts;

namespace DANNet.Calibration.Cli;

/// <summary>Where labelled images for the accuracy measurement come from.</summary>

/// <summary>Everything one dannet-calibrate run is asked to do (the command line, parsed).</summary>
public sealed record CalibrationRequest(string Model, string Data)
{
    public int Frames { get; init; } = 64;
    public CalibrationMethod Method { get; init; } = CalibrationMethod.Percentile;
    public double Percentile { get; init; } = 99.99;
    /// <summary>Frame → model input resize; null: the model's own (its <c>dannet.resize</c>; area if it names none), as dannet-edge feeds it.</summary>
    public InputResize? Resize { get; init; }
    public string? Out { get; init; }
    public string? Cache { get; init; }
    public string? Report { get; init; }

    /// <summary>Tensors to leave in float (names from the sensitivity report).</summary>
    public IReadOnlyList<string> KeepFloat { get; init; } = [];

    /// <summary>Frames for the per-tensor sensitivity report; 0: no report.</summary>
    public int SensitivityFrames { get; init; }

    /// <summary>With the report: keep this many of the most sensitive tensors in float.</summary>
    public int KeepFloatTop { get; init; }

    /// <summary>A labelled data set root to measure float vs int8 mIoU on; null: mask agreement on the calibration frames only.</summary>
    public string? EvalRoot { get; init; }
    public DatasetLayout EvalLayout { get; init; } = DatasetLayout.DarkZurich;
    public string EvalSplit { get; init; } = "val";

    /// <summary>Evaluate on this many images spread over the split; 0: all.</summary>
    public int EvalImages { get; init; }

    /// <summary>Timed runs of each model (interleaved); 0: no timing.</summary>
    public int BenchRuns { get; init; } = 20;

    /// <summary>ONNX Runtime intra-op threads for measuring (0: its default).</summary>
    public int Threads { get; init; }

    /// <summary>Skip every measurement (statistics, model and table only).</summary>
    public bool NoMeasure { get; init; }

    public string OutFile => Out ?? Path.ChangeExtension(Model, ".int8.onnx");
    /// <summary>The TensorRT cache: next to the int8 model written (never into the input model's folder, which may be read-only or a repository).</summary>
    public string CacheFile => Cache ?? Path.ChangeExtension(OutFile, ".calib");
    public string ReportFile => Report ?? Path.ChangeExtension(OutFile, ".report.json");
}
