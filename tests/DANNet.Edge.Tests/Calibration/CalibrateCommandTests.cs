using DANNet.Calibration;
using DANNet.Trainer.Data;
using DANNet.Model;
using System.Text.Json;
using DANNet.Calibration.Cli;
using DANNet.Calibration.Statistics;
using DANNet.Calibration.Tables;
using DANNet.Edge.Contracts;
using Google.Protobuf;
using OpenCvSharp;

namespace DANNet.Edge.Tests.Calibration;

/// <summary>dannet-calibrate end to end on the tiny net: outputs, bad frames, too few frames, a model without our metadata.</summary>
public sealed class CalibrateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-calibrate-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Frames(int good, int corrupt)
    {
        string folder = Path.Combine(_dir, "frames");
        Directory.CreateDirectory(folder);
        var random = new Random(9);
        for (int i = 0; i < good; i++)
        {
            using var image = new Mat(30, 40, MatType.CV_8UC3);
            Cv2.Randu(image, new Scalar(0, 0, 0), new Scalar(256, 256, 256));
            Cv2.ImWrite(Path.Combine(folder, $"good{i}.png"), image);
        }
        for (int i = 0; i < corrupt; i++)
        {
            var junk = new byte[100];
            random.NextBytes(junk);
            File.WriteAllBytes(Path.Combine(folder, $"bad{i}.png"), junk);
        }
        return folder;
    }

    private string Model(bool withMetadata)
    {
        var model = QdqWriterTests.TinyNet();
        if (!withMetadata) model.MetadataProps.Clear();
        string path = Path.Combine(_dir, withMetadata ? "tiny.onnx" : "plain.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    [Fact]
    public void Calibrating_writes_the_quantised_model_and_a_cache_that_parses_and_counts_unreadable_frames()
    {
        string model = Model(withMetadata: true), frames = Frames(good: 3, corrupt: 1);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, Calibrator.Run(new CalibrationRequest(model, frames) { Frames = 3, Method = CalibrationMethod.Percentile, NoMeasure = true }, output, error));
        string quantised = Path.Combine(_dir, "tiny.int8.onnx"), cache = Path.Combine(_dir, "tiny.int8.calib");
        Assert.True(File.Exists(quantised) && File.Exists(cache));
        Assert.Contains("bad0.png", error.ToString());
        Assert.DoesNotContain("carries no DANNet metadata", error.ToString());
        // Not a terminal: progress comes as whole lines (the first, every tenth, the last), no carriage returns.
        Assert.DoesNotContain("\r", error.ToString());
        Assert.Matches(@"(?m)^  statistics 1/(\d+) passes\n(  statistics \d+/\1 passes\n)*  statistics \1/\1 passes$", error.ToString());
        var (calibrator, _, scales) = TensorRtCalibrationCache.Parse(File.ReadAllText(cache), cache);
        Assert.Equal("EntropyCalibration2", calibrator);
        Assert.Equal(["c1", "c2", "r1", "x"], scales.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.All(scales.Values, s => Assert.True(s > 0));
        // The image tensor is calibrated by its range whatever the method: the same scale as a min-max run gives it.
        string minmaxCache = Path.Combine(_dir, "minmax.calib");
        Assert.Equal(0, Calibrator.Run(new CalibrationRequest(model, frames)
        {
            Frames = 3, Method = CalibrationMethod.MinMax, Out = Path.Combine(_dir, "minmax.onnx"), Cache = minmaxCache, NoMeasure = true,
        }, new StringWriter(), new StringWriter()));
        var minmax = TensorRtCalibrationCache.Parse(File.ReadAllText(minmaxCache), minmaxCache).Scales;
        Assert.Equal(minmax["x"], scales["x"]);
        Assert.Equal("MinMaxCalibration", TensorRtCalibrationCache.Parse(File.ReadAllText(minmaxCache), minmaxCache).Calibrator);
        Assert.DoesNotContain(Directory.EnumerateFiles(_dir), f => f.Contains(".tmp-", StringComparison.Ordinal));
        // The float model's metadata is kept and the calibration is recorded.
        var meta = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(quantised)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("1", meta[ModelMetadataKeys.FormatVersion]);
        Assert.Equal("int8-qdq", meta[ModelMetadataKeys.Precision]);
        Assert.Contains("method=Percentile percentile=99.99 frames=3 data=frames resize=Area", meta[ModelMetadataKeys.Calibration]);
        Assert.Contains("TensorRT-ready: opset 17", output.ToString());
    }

    /// <summary>
    /// The quantised model is checked against TensorRT's rules before it is written: a float model ONNX Runtime runs but TensorRT would
    /// not (a round trip through float64 inside) gives one line naming the problem, and nothing is written.
    /// </summary>
    [Fact]
    public void A_quantised_model_that_TensorRT_would_refuse_is_not_written()
    {
        var model = QdqWriterTests.TinyNet();
        var conv2 = model.Graph.Node.Single(n => n.Output[0] == "c2");
        var toDouble = new Onnx.NodeProto { OpType = "Cast", Name = "r1d", Input = { "r1" }, Output = { "r1d" } };
        toDouble.Attribute.Add(new Onnx.AttributeProto { Name = "to", Type = Onnx.AttributeProto.Types.AttributeType.Int, I = (int)Onnx.TensorProto.Types.DataType.Double });
        var toFloat = new Onnx.NodeProto { OpType = "Cast", Name = "r1f", Input = { "r1d" }, Output = { "r1f" } };
        toFloat.Attribute.Add(new Onnx.AttributeProto { Name = "to", Type = Onnx.AttributeProto.Types.AttributeType.Int, I = (int)Onnx.TensorProto.Types.DataType.Float });
        model.Graph.Node.Insert(model.Graph.Node.IndexOf(conv2), toFloat);
        model.Graph.Node.Insert(model.Graph.Node.IndexOf(toFloat), toDouble);
        conv2.Input[0] = "r1f";
        string path = Path.Combine(_dir, "float64.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        string frames = Frames(good: 2, corrupt: 0), quantised = Path.Combine(_dir, "float64.int8.onnx");
        var ex = Assert.Throws<InvalidDataException>(() =>
            Calibrator.Run(new CalibrationRequest(path, frames) { Frames = 2, NoMeasure = true }, new StringWriter(), new StringWriter()));
        Assert.Contains("is not TensorRT-ready, nothing was written", ex.Message);
        Assert.Contains("Cast to float64 is not supported by TensorRT", ex.Message);
        Assert.Contains(path, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.False(File.Exists(quantised));
        Assert.False(File.Exists(Path.ChangeExtension(quantised, ".calib")));
    }

    [Fact]
    public void Fewer_readable_frames_than_asked_is_an_error_that_says_how_many()
    {
        string model = Model(withMetadata: true), frames = Frames(good: 2, corrupt: 1);
        var ex = Assert.Throws<ArgumentException>(() =>
            Calibrator.Run(new CalibrationRequest(model, frames) { Frames = 5, Method = CalibrationMethod.Entropy }, new StringWriter(), new StringWriter()));
        Assert.Contains("gave 2 readable frame(s) (1 unreadable); --frames asks for 5", ex.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "tiny.int8.onnx")));
    }

    [Fact]
    public void A_model_without_our_metadata_still_calibrates_with_a_warning()
    {
        string model = Model(withMetadata: false), frames = Frames(good: 2, corrupt: 0);
        var error = new StringWriter();
        Assert.Equal(0, Calibrator.Run(new CalibrationRequest(model, frames) { Frames = 2, Method = CalibrationMethod.MinMax, Resize = InputResize.Linear, NoMeasure = true },
            new StringWriter(), error));
        Assert.Contains("carries no DANNet metadata", error.ToString());
        Assert.StartsWith("TRT-", File.ReadAllText(Path.Combine(_dir, "plain.int8.calib")));
        var missing = Assert.Throws<FileNotFoundException>(() =>
            Calibrator.Run(new CalibrationRequest(Path.Combine(_dir, "none.onnx"), frames) { Frames = 2 }, new StringWriter(), new StringWriter()));
        Assert.Contains("none.onnx", missing.Message);
    }

    /// <summary>
    /// Round 2, item 7: what is not a float DANNet model is refused in one line before any work — an empty file, bytes that
    /// are not ONNX, external data, an already-int8 model, a graph without convolutions, one ONNX Runtime cannot load (a custom
    /// operator), one that breaks the model contract (a float mask) — and the cache goes next to --out, not into the model's folder.
    /// </summary>
    [Fact]
    public void What_is_not_a_float_dannet_model_is_refused_in_one_line()
    {
        string frames = Frames(good: 2, corrupt: 0);
        string Write(string name, Action<Onnx.ModelProto>? change = null, byte[]? bytes = null)
        {
            string path = Path.Combine(_dir, name);
            var model = QdqWriterTests.TinyNet();
            change?.Invoke(model);
            File.WriteAllBytes(path, bytes ?? model.ToByteArray());
            return path;
        }
        var cases = new (string Path, string Message)[]
        {
            (Write("empty.onnx", bytes: []), "is empty: export a model"),
            (Write("text.onnx", bytes: "not a model at all"u8.ToArray()), "is not an ONNX model"),
            (Write("external.onnx", m => m.Graph.Initializer[0].DataLocation = Onnx.TensorProto.Types.DataLocation.External), "keeps its data in an external file"),
            (EdgeDefaults.ModelPath, "is already quantised (Q/DQ)"),
            (Write("batch.onnx", bytes: QdqWriterTests.TinyNet(batch: 2).ToByteArray()), "takes 2 images per run: calibrate the batch-1 export"),
            (Write("noconv.onnx", m => { foreach (var n in m.Graph.Node.Where(n => n.OpType == "Conv")) n.OpType = "Add"; }), "has no convolution to quantise"),
            (Write("custom.onnx", m => m.Graph.Node.First(n => n.OpType == "Relu").OpType = "TotallyCustomOp"), "ONNX Runtime cannot load"),
            (Write("floatmask.onnx", m =>
            {
                m.Graph.Output.Single(o => o.Name == "mask").Type.TensorType.ElemType = (int)Onnx.TensorProto.Types.DataType.Float;
                m.Graph.Node.Single(n => n.Output[0] == "mask").Attribute.Single().I = (int)Onnx.TensorProto.Types.DataType.Float;
            }), "output 'mask' must be uint8"),
        };
        foreach (var (path, message) in cases)
        {
            Exception? ex = null;
            try
            {
                Calibrator.Run(new CalibrationRequest(path, frames) { Frames = 2, NoMeasure = true, Out = Path.Combine(_dir, "out", "x.onnx") },
                    new StringWriter(), new StringWriter());
            }
            catch (Exception caught) { ex = caught; }
            Assert.True(ex is InvalidDataException or FileNotFoundException, $"{Path.GetFileName(path)}: {ex?.GetType().Name ?? "calibrated"}: {ex?.Message}");
            Assert.Contains(path, ex!.Message);
            Assert.Contains(message, ex.Message);
            Assert.DoesNotContain('\n', ex.Message);
        }
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));
        Assert.Equal(Path.Combine(_dir, "out", "x.calib"), new CalibrationRequest("/models/m.onnx", frames) { Out = Path.Combine(_dir, "out", "x.onnx") }.CacheFile);
    }

    /// <summary>
    /// Round 2, item 7: a model declaring a dimension past 2^31 (ONNX Runtime's API holds dimensions as 32-bit integers, so
    /// 2^32 + 8 reads as 8) is one line and exit 1 from 'dannet-edge model', not a stack.
    /// </summary>
    [Fact]
    public void A_model_with_a_dimension_past_2_to_the_31_is_one_line_not_a_stack()
    {
        var model = QdqWriterTests.TinyNet();
        model.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue = (1L << 32) + 8;
        string path = Path.Combine(_dir, "wrapped.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        var (code, output) = DANNet.Edge.Tests.SharedMemory.RingProcesses.Edge("model", "--model", path, "--frames", "1");
        Assert.Equal(1, code);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Unhandled exception", output);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error: ", StringComparison.Ordinal));
    }

    /// <summary>A Dark Zurich layout with <paramref name="count"/> labelled night images (road, sidewalk, building, wall and ignored pixels).</summary>
    private string LabelledNight(int count)
    {
        string root = Path.Combine(_dir, "dz");
        string images = Path.Combine(root, "rgb_anon", "val", "night", "GOPR0001"), labels = Path.Combine(root, "gt", "val", "night", "GOPR0001");
        Directory.CreateDirectory(images);
        Directory.CreateDirectory(labels);
        byte[] labelIds = [7, 8, 11, 12, 0];
        for (int i = 0; i < count; i++)
        {
            using var image = new Mat(30, 40, MatType.CV_8UC3);
            Cv2.Randu(image, new Scalar(0, 0, 0), new Scalar(256, 256, 256));
            using var label = new Mat(30, 40, MatType.CV_8UC1);
            for (int y = 0; y < 30; y++)
                for (int x = 0; x < 40; x++) label.Set(y, x, labelIds[(x / 8 + y / 10 + i) % labelIds.Length]);
            Cv2.ImWrite(Path.Combine(images, $"GOPR0001_frame_{i:D6}_rgb_anon.png"), image);
            Cv2.ImWrite(Path.Combine(labels, $"GOPR0001_frame_{i:D6}_gt_labelIds.png"), label);
        }
        return root;
    }

    [Fact]
    public void Measuring_evaluates_float_and_int8_with_evals_code_and_reports_agreement_and_latency()
    {
        string model = Model(withMetadata: true), frames = Frames(good: 3, corrupt: 0), root = LabelledNight(3);
        var output = new StringWriter();
        var request = new CalibrationRequest(model, frames) { Frames = 3, EvalRoot = root, BenchRuns = 6, Threads = 1 };
        Assert.Equal(0, Calibrator.Run(request, output, new StringWriter()));
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "tiny.int8.report.json")));
        var r = report.RootElement;

        // The same evaluation, done here independently with eval's code, gives the same numbers exactly.
        var samples = DANNet.Trainer.Data.DarkZurichDataset.LabelledNight(root, "val").Samples;
        using var f = new OnnxSegmenter(model, 1);
        using var q = new OnnxSegmenter(request.OutFile, 1);
        var (results, agreement) = MaskEvaluation.Evaluate(new Func<Mat, Mat>[] { f.Segment, q.Segment }, "x", samples);
        Assert.Equal(Math.Round(results[0].MeanIoU, 6), r.GetProperty("float").GetProperty("evaluation").GetProperty("miou").GetDouble());
        Assert.Equal(Math.Round(results[1].MeanIoU, 6), r.GetProperty("int8").GetProperty("evaluation").GetProperty("miou").GetDouble());
        Assert.Equal(3, r.GetProperty("int8").GetProperty("evaluation").GetProperty("images").GetInt32());
        var agree = r.GetProperty("mask_agreement");
        Assert.Equal(3L * 30 * 40, agree.GetProperty("pixels").GetInt64());
        Assert.Equal(agreement[1].Equal, agree.GetProperty("equal").GetInt64());
        Assert.Equal(agreement[0].Pixels, agreement[0].Equal); // the float model agrees with itself everywhere
        Assert.Equal(Math.Round(100 * (results[0].MeanIoU - results[1].MeanIoU), 3), r.GetProperty("miou_drop_points").GetDouble());

        foreach (var which in new[] { "float", "int8" })
        {
            var latency = r.GetProperty(which).GetProperty("latency");
            Assert.Equal(6, latency.GetProperty("runs").GetInt32());
            Assert.True(latency.GetProperty("min_ms").GetDouble() <= latency.GetProperty("p50_ms").GetDouble());
            Assert.True(latency.GetProperty("p50_ms").GetDouble() <= latency.GetProperty("max_ms").GetDouble());
        }
        Assert.Equal(new FileInfo(model).Length, r.GetProperty("float").GetProperty("bytes").GetInt64());
        string table = output.ToString();
        Assert.Contains("mIoU (3 images)", table);
        Assert.Contains("mask agreement", table);
        Assert.Contains("inference p50 (cpu, 1 threads)", table);
    }

    [Fact]
    public void Without_labels_agreement_is_measured_on_the_calibration_frames()
    {
        string model = Model(withMetadata: true), frames = Frames(good: 2, corrupt: 0);
        Assert.Equal(0, Calibrator.Run(new CalibrationRequest(model, frames) { Frames = 2, BenchRuns = 0, Threads = 1 }, new StringWriter(), new StringWriter()));
        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "tiny.int8.report.json")));
        var r = report.RootElement;
        Assert.Equal(JsonValueKind.Null, r.GetProperty("float").GetProperty("evaluation").ValueKind);
        Assert.Equal(JsonValueKind.Null, r.GetProperty("int8").GetProperty("latency").ValueKind);
        var agree = r.GetProperty("mask_agreement");
        Assert.Equal(2L * 8 * 12, agree.GetProperty("pixels").GetInt64()); // at the model's input size
        Assert.Contains("calibration frames", agree.GetProperty("on").GetString());
        Assert.InRange(agree.GetProperty("equal").GetInt64(), 0, 2L * 8 * 12);
    }

    [Fact]
    public void The_sensitivity_report_ranks_every_tensor_and_the_most_sensitive_stay_float()
    {
        string model = Model(withMetadata: true), frames = Frames(good: 3, corrupt: 0);
        var output = new StringWriter();
        var request = new CalibrationRequest(model, frames) { Frames = 3, SensitivityFrames = 2, KeepFloatTop = 1, KeepFloat = ["c1"], BenchRuns = 0, Threads = 1 };
        Assert.Equal(0, Calibrator.Run(request, output, new StringWriter()));
        using var report = JsonDocument.Parse(File.ReadAllText(request.ReportFile));
        var ranked = report.RootElement.GetProperty("sensitivity").EnumerateArray()
            .Select(t => (Tensor: t.GetProperty("tensor").GetString()!, Changed: t.GetProperty("changed_pixels").GetDouble())).ToList();
        Assert.Equal(["c1", "c2", "r1", "x"], ranked.Select(t => t.Tensor).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(ranked.Select(t => t.Changed).OrderDescending(), ranked.Select(t => t.Changed));
        Assert.All(ranked, t => Assert.InRange(t.Changed, 0, 1));
        // Kept: the one named, and the top of the ranking (once, if they are the same tensor).
        var kept = report.RootElement.GetProperty("kept_float").EnumerateArray().Select(k => k.GetString()!).ToList();
        Assert.Equal(new[] { "c1", ranked[0].Tensor }.Distinct(), kept);
        var quantised = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(request.OutFile));
        foreach (var k in kept) Assert.DoesNotContain(quantised.Graph.Node, n => n.OpType == "QuantizeLinear" && n.Input[0] == k);
        Assert.Contains(quantised.Graph.Node, n => n.OpType == "QuantizeLinear");
        Assert.Contains("keep-float=" + string.Join(',', kept), quantised.MetadataProps.Single(p => p.Key == ModelMetadataKeys.Calibration).Value);
        Assert.Contains("most sensitive tensors", output.ToString());
    }

    [Fact]
    public void Keep_float_names_and_option_combinations_are_checked_before_any_work()
    {
        string model = Model(withMetadata: true), frames = Frames(good: 2, corrupt: 0);
        var unknown = Assert.Throws<ArgumentException>(() => Calibrator.Run(new CalibrationRequest(model, frames) { Frames = 2, KeepFloat = ["conv9"] },
            new StringWriter(), new StringWriter()));
        Assert.Contains("'conv9' is not a calibrated tensor", unknown.Message);
        var top = Assert.Throws<ArgumentException>(() => Calibrator.Run(new CalibrationRequest(model, frames) { Frames = 2, KeepFloatTop = 3 },
            new StringWriter(), new StringWriter()));
        Assert.Contains("--keep-float-top 3 needs --sensitivity", top.Message);
        var self = Assert.Throws<ArgumentException>(() => Calibrator.Run(new CalibrationRequest(model, frames) { Frames = 2, Out = model },
            new StringWriter(), new StringWriter()));
        Assert.Contains("is the float model itself", self.Message);
        var noSet = Assert.Throws<DANNet.Trainer.Data.DatasetException>(() => Calibrator.Run(
            new CalibrationRequest(model, frames) { Frames = 2, EvalRoot = Path.Combine(_dir, "nowhere") }, new StringWriter(), new StringWriter()));
        Assert.Contains("nowhere", noSet.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "tiny.int8.onnx")));
    }
}
