using DANNet.Edge.Bench;
using DANNet.Model;
using DANNet.Edge.Cli;
using DANNet.Edge.Contracts;

namespace DANNet.Edge.Tests.Inference;

/// <summary>The embedded default model in ONNX Runtime (CPU), and the model contract's errors.</summary>
public sealed class SegmentationSessionTests
{
    [Fact]
    public void The_embedded_default_model_ships_with_the_runtime_and_follows_the_contract()
    {
        Assert.True(File.Exists(EdgeDefaults.ModelPath), EdgeDefaults.ModelPath);
        Assert.InRange(new FileInfo(EdgeDefaults.ModelPath).Length, 1_000_000, 50_000_000);
        using var session = SegmentationSession.OpenCpu(EdgeDefaults.ModelPath, threads: 1);
        Assert.Equal((272, 480), (session.Info.Height, session.Info.Width));
        Assert.Equal("pspnet-r18i-l16", session.Info.Architecture);
        Assert.True(session.Info.Relighting);
        Assert.Equal(CityscapesClasses.Names, session.Info.Classes);
        Assert.Equal(CityscapesClasses.All.Select(c => c.Color), session.Info.Palette);
        Assert.Empty(session.Info.ExtraOutputs);
        // dannet-calibrate's mixed-precision int8 model (models/README.md): its provenance travels with it.
        Assert.Equal(ModelPrecision.Int8Qdq, session.Info.Card.Precision);
        Assert.Contains("method=Percentile", session.Info.Card.Calibration);
    }

    [Fact]
    public void A_frame_runs_without_managed_allocations_and_gives_class_ids()
    {
        using var session = SegmentationSession.OpenCpu(EdgeDefaults.ModelPath, threads: 1);
        var rng = new Random(5);
        rng.NextBytes(session.Image);
        session.Run();   // warm-up
        var times = new double[2];
        long before = GC.GetAllocatedBytesForCurrentThread();
        session.Time(times);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(272 * 480, session.Mask.Length);
        foreach (var v in session.Mask) Assert.InRange(v, (byte)0, (byte)18);
        Assert.All(times, t => Assert.True(t > 0));
    }

    [Fact]
    public void A_file_that_is_not_a_model_is_named_in_the_error()
    {
        string path = Path.Combine(Path.GetTempPath(), $"not-a-model-{Guid.NewGuid():N}.onnx");
        File.WriteAllText(path, "hello");
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => SegmentationSession.OpenCpu(path));
            Assert.Contains(path, ex.Message);
            var missing = Assert.Throws<FileNotFoundException>(() => SegmentationSession.OpenCpu(path + ".missing"));
            Assert.Contains("dannet-train export", missing.Message);
        }
        finally { File.Delete(path); }
    }

    private static readonly Dictionary<string, (Type, int[])> GoodInputs = new() { [ModelContract.ImageInput] = (typeof(byte), [1, 8, 16, 3]) };
    private static readonly Dictionary<string, (Type, int[])> GoodOutputs = new() { [ModelContract.MaskOutput] = (typeof(byte), [1, 8, 16]) };

    [Theory]
    [InlineData("float-input", "input 'image' must be uint8 [B,H,W,3]")]
    [InlineData("nchw-input", "input 'image' must be uint8 [B,H,W,3]")]
    [InlineData("dynamic-input", "input 'image' must be uint8 [B,H,W,3]")]
    [InlineData("no-mask", "no output 'mask'")]
    [InlineData("mask-size", "output 'mask' must be uint8 [1,8,16]")]
    [InlineData("two-inputs", "expected exactly one input 'image'")]
    [InlineData("bad-palette", "is not #rrggbb")]
    [InlineData("newer-format", "was exported with metadata format 2; this version reads format 1 and older")]
    [InlineData("bad-format", "dannet.format_version 'v1' is not a version number")]
    [InlineData("size-metadata", "its metadata gives input width 32 (dannet.input_width) but the input tensor has 16")]
    [InlineData("huge-input", "its input is 65536x65536; masks can be at most 16384 pixels per side")]
    [InlineData("bad-resize", "dannet.resize 'bicubic' is not one of antialiased|linear|area")]
    [InlineData("newline-name", "class 0 in dannet.classes is 'road\\nsidewalk': a name is non-empty printable text without line breaks")]
    [InlineData("empty-name", "class 1 in dannet.classes is '': a name is non-empty")]
    [InlineData("300-classes", "300 classes in dannet.classes; a mask holds class ids 0..253")]
    public void Contract_violations_name_the_model_and_the_fix(string breakage, string message)
    {
        var inputs = new Dictionary<string, (Type Type, int[] Shape)>(GoodInputs);
        var outputs = new Dictionary<string, (Type Type, int[] Shape)>(GoodOutputs);
        var metadata = new Dictionary<string, string>();
        switch (breakage)
        {
            case "float-input": inputs[ModelContract.ImageInput] = (typeof(float), [1, 8, 16, 3]); break;
            case "nchw-input": inputs[ModelContract.ImageInput] = (typeof(byte), [1, 3, 8, 16]); break;
            case "dynamic-input": inputs[ModelContract.ImageInput] = (typeof(byte), [-1, 8, 16, 3]); break;
            case "no-mask": outputs.Clear(); outputs["logits"] = (typeof(float), [1, 19, 1, 2]); break;
            case "mask-size": outputs[ModelContract.MaskOutput] = (typeof(byte), [1, 4, 8]); break;
            case "two-inputs": inputs["extra"] = (typeof(float), [1]); break;
            case "bad-palette": metadata[ModelMetadataKeys.Palette] = "red,green"; metadata[ModelMetadataKeys.Classes] = "a,b"; break;
            case "newer-format": metadata[ModelMetadataKeys.FormatVersion] = "2"; break;
            case "bad-format": metadata[ModelMetadataKeys.FormatVersion] = "v1"; break;
            case "size-metadata": metadata[ModelMetadataKeys.InputHeight] = "8"; metadata[ModelMetadataKeys.InputWidth] = "32"; break;
            case "bad-resize": metadata[ModelMetadataKeys.Resize] = "bicubic"; break;
            case "newline-name": metadata[ModelMetadataKeys.Classes] = "road\nsidewalk,b"; metadata[ModelMetadataKeys.Palette] = "#000000,#ffffff"; break;
            case "empty-name": metadata[ModelMetadataKeys.Classes] = "a,,c"; metadata[ModelMetadataKeys.Palette] = "#000000,#ffffff,#ff0000"; break;
            case "300-classes":
                metadata[ModelMetadataKeys.Classes] = string.Join(',', Enumerable.Range(0, 300).Select(i => $"c{i}"));
                metadata[ModelMetadataKeys.Palette] = string.Join(',', Enumerable.Repeat("#000000", 300));
                break;
            case "huge-input":
                inputs[ModelContract.ImageInput] = (typeof(byte), [1, 65536, 65536, 3]);
                outputs[ModelContract.MaskOutput] = (typeof(byte), [1, 65536, 65536]);
                break;
        }
        var ex = Assert.Throws<InvalidDataException>(() => ModelInfo.From("m.onnx", inputs, outputs, metadata));
        Assert.Contains("m.onnx", ex.Message);
        Assert.Contains(message, ex.Message);
        Assert.NotNull(ModelInfo.From("m.onnx", GoodInputs.ToDictionary(kv => kv.Key, kv => kv.Value), GoodOutputs.ToDictionary(kv => kv.Key, kv => kv.Value), new Dictionary<string, string>()));
    }

    [Theory]
    [InlineData(null, InputResize.Area, false)]
    [InlineData("antialiased", InputResize.Antialiased, true)]
    [InlineData("Linear", InputResize.Linear, true)]
    [InlineData("area", InputResize.Area, true)]
    public void The_model_names_the_resize_every_command_feeds_it_with(string? stated, InputResize expected, bool states)
    {
        var metadata = new Dictionary<string, string>();
        if (stated is not null) metadata[ModelMetadataKeys.Resize] = stated;
        var info = ModelInfo.From("m.onnx", GoodInputs.ToDictionary(kv => kv.Key, kv => kv.Value), GoodOutputs.ToDictionary(kv => kv.Key, kv => kv.Value), metadata);
        Assert.Equal(expected, info.Resize);
        Assert.Equal(states, info.StatesResize);
    }

    [Fact]
    public void Frames_go_into_a_model_with_its_own_resize_unless_another_is_asked_for()
    {
        using var session = SegmentationSession.OpenCpu(EdgeDefaults.ModelPath, threads: 1);
        Assert.True(session.Info.StatesResize);
        using (var byDefault = new ModelInput(session, null)) Assert.Equal(InputResize.Antialiased, byDefault.Resize);
        using (var asked = new ModelInput(session, InputResize.Area)) Assert.Equal(InputResize.Area, asked.Resize);
    }

    [Fact]
    public void The_model_command_describes_and_times_the_default_model()
    {
        var output = new StringWriter();
        Assert.Equal(0, ModelCommand.Run(EdgeDefaults.ModelPath, 2, 1, output));
        string text = output.ToString();
        Assert.Contains("image uint8 [1,272,480,3] BGR", text);
        Assert.Contains("with LightNet relighting", text);
        Assert.Contains("resize        antialiased (the resize it was evaluated with", text);
        Assert.Contains("0 managed bytes over the 2 timed frames", text);
    }
}

public sealed class BenchCommandTests
{
    [Fact]
    public void Latency_percentiles_are_nearest_rank_over_the_exact_samples()
    {
        double[] samples = [.. Enumerable.Range(1, 100).Select(i => (double)(101 - i))];
        var summary = DANNet.Model.LatencySummary.Of(samples);
        Assert.Equal(new DANNet.Model.LatencySummary(100, 1, 50.5, 50, 90, 95, 99, 100), summary);
        Assert.Equal(100, samples[0]);   // the caller's samples are not reordered
        var ten = DANNet.Model.LatencySummary.Of([3.0, 1, 2, 10, 9, 8, 7, 6, 5, 4]);
        Assert.Equal((5.0, 9.0, 10.0, 10.0), (ten.P50, ten.P90, ten.P95, ten.P99));
        Assert.Equal(0, DANNet.Model.LatencySummary.Of(ReadOnlySpan<double>.Empty).Count);
        Assert.Null(DANNet.Model.LatencySummary.Empty.ToJson()["p50"]);
        Assert.Equal(7.0, DANNet.Model.LatencySummary.Of([7.0]).ToJson()["p99"]!.GetValue<double>());
    }

    [Fact]
    public void Bench_times_each_stage_and_a_bare_loop_and_reports_the_model_and_provider()
    {
        string[] order = ["cuda", "cpu"];
        var result = PipelineBench.Run(EdgeDefaults.ModelPath, EdgeDefaults.VideoPath, new DANNet.Model.ModelOptions { Providers = order, Threads = 1 }, frames: 4, warmup: 1);
        string expected = MachineCapabilities.FirstAvailable(order)!;
        Assert.Equal(expected, result.Provider);
        Assert.Equal(4, result.Frames);
        var stages = new[] { result.Decode, result.Preprocess, result.Inference, result.Publish };
        Assert.All(stages.Append(result.EndToEnd), s => Assert.Equal(4, s.Count));
        Assert.Equal(5, result.BareInference.Count);
        // End to end is the sum of the four stages frame by frame (one clock, contiguous intervals): its mean is the sum of their means,
        // up to the report's rounding to 4 decimals (5 roundings of at most 0.00005 ms); no frame's total is below any of its stages.
        Assert.InRange(result.EndToEnd.Mean - stages.Sum(s => s.Mean), -0.00025 - 1e-9, 0.00025 + 1e-9);
        Assert.All(stages, s => Assert.True(result.EndToEnd.Max >= s.Max && result.EndToEnd.Min >= s.Min, $"{s} vs {result.EndToEnd}"));
        Assert.True(result.Inference.Min > 0 && result.EndToEnd.Min > 0);
        Assert.Equal(Math.Round(result.EndToEnd.P50 / result.BareInference.P50, 4), result.OverheadRatio);
        Assert.Equal("int8-qdq", result.Model.Precision);
        Assert.Equal(64, result.Model.Sha256.Length);
        Assert.Equal(new FileInfo(EdgeDefaults.ModelPath).Length, result.Model.Bytes);
        var text = new StringWriter();
        PipelineBench.Print(new BenchReport("cpu", "linux", 2, [result, result]), text);
        Assert.Contains($"pspnet-r18i-l16 480x272 int8-qdq", text.ToString());
        Assert.Contains($"{expected} (1 threads), 4 frames", text.ToString());
        Assert.Contains("end-to-end p50 / bare p50 = ", text.ToString());
        Assert.Contains("is 1.00x faster than", text.ToString());
    }

    [Fact]
    public void Publishing_alone_is_timed_on_a_real_ring()
    {
        var stage = PipelineBench.Publishing(96, 54, 100);
        Assert.Equal(100, stage.Count);
        Assert.True(stage.Min > 0, stage.ToString());
    }
}
