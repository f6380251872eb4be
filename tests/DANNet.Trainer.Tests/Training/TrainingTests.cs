using System.Text.Json.Nodes;
using DANNet.Trainer.Data;
using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Training;

namespace DANNet.Trainer.Tests.Training;

/// <summary>The training loop on the tiny SynthNight set with a tiny edge net.</summary>
[Collection(TinySynthNightCollection.Name)]
public sealed class TrainingTests(TinySynthNightFixture data)
{
    private TrainingConfig Tiny(int iterations, TrainingMode mode = TrainingMode.Dannet) => TinyTraining.Config(data, iterations, mode);

    private static string NewDir(string name) => TinyTraining.NewDir(name);

    private static List<string> Steps(string runDir) => TinyTraining.Steps(runDir);

    [Fact]
    public void A_run_interrupted_and_resumed_gives_the_same_losses_as_one_uninterrupted()
    {
        string straight = NewDir("straight"), interrupted = NewDir("interrupted");
        try
        {
            var config = Tiny(6);
            new DannetTrainer(config, straight).Run(resume: false);

            using var cancel = new CancellationTokenSource();
            var progress = new DANNet.Trainer.Diagnostics.InlineProgress<TrainingProgress>(p => { if (p.Iteration == 4) cancel.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => new DannetTrainer(config, interrupted).Run(false, progress, cancel.Token));
            Assert.Equal(3, new CheckpointStore(Path.Combine(interrupted, DannetTrainer.CheckpointsFolder), 2).Latest()!.Value.State.Iteration);
            new DannetTrainer(config, interrupted).Run(resume: true);

            var a = Steps(straight);
            var b = Steps(interrupted);
            Assert.Equal(6, a.Count);
            Assert.Equal(a, b);
            Assert.Contains("\"static\":", a[0]);
            Assert.Contains("\"d_night\":", a[0]);
            // Kept checkpoints: the last two.
            var kept = new CheckpointStore(Path.Combine(straight, DannetTrainer.CheckpointsFolder), 2).Complete().Select(c => c.State.Iteration);
            Assert.Equal([3L, 6L], kept);
            Assert.True(File.Exists(Path.Combine(straight, DannetTrainer.CurvesFile)));
            Assert.True(File.Exists(Path.Combine(straight, "eval", "iou.json")));
            Assert.Contains("\"mode\": \"Dannet\"", File.ReadAllText(Path.Combine(straight, DannetTrainer.ConfigFile)));
            Assert.StartsWith("code 0.1.0", File.ReadAllText(Path.Combine(straight, "version.txt")));
        }
        finally
        {
            foreach (var d in new[] { straight, interrupted }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public void A_run_resumes_after_its_data_set_moved()
    {
        string moved = data.CopyTo("moved");
        string dir = NewDir("moved-data");
        try
        {
            var config = Tiny(4, TrainingMode.SourceOnly);
            using var cancel = new CancellationTokenSource();
            var progress = new DANNet.Trainer.Diagnostics.InlineProgress<TrainingProgress>(p => { if (p.Iteration == 3) cancel.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => new DannetTrainer(config, dir).Run(false, progress, cancel.Token));
            string source = Path.Combine(moved, DANNet.Trainer.Data.SynthNight.SynthNightGenerator.CityscapesFolder);
            string target = Path.Combine(moved, DANNet.Trainer.Data.SynthNight.SynthNightGenerator.DarkZurichFolder);
            var elsewhere = config with { Data = config.Data with { Source = source, Target = target } };
            var summary = new DannetTrainer(elsewhere, dir).Run(resume: true);
            Assert.Equal(4, summary.Iterations);
            Assert.Equal(4, Steps(dir).Count);
        }
        finally
        {
            Directory.Delete(moved, true);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData(TrainingMode.SourceOnly, "seg", "light_source")]
    [InlineData(TrainingMode.Oracle, "light_source", "static")]
    public void Source_only_and_oracle_run_the_labelled_pass_alone(TrainingMode mode, string present, string absent)
    {
        string dir = NewDir(mode.ToString());
        try
        {
            new DannetTrainer(Tiny(2, mode), dir).Run(false);
            var steps = Steps(dir);
            Assert.Equal(2, steps.Count);
            Assert.All(steps, s => Assert.Contains($"\"{present}\":", s));
            Assert.All(steps, s => Assert.DoesNotContain($"\"{absent}\":", s));
            Assert.All(steps, s => Assert.DoesNotContain("\"adv_day\":", s));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void Ablation_switches_remove_their_terms()
    {
        string dir = NewDir("ablation");
        try
        {
            var config = Tiny(1) with { Loss = new LossConfig { UseAdversarial = false, UseStatic = false } };
            new DannetTrainer(config, dir).Run(false);
            string step = Steps(dir).Single();
            Assert.Contains("\"light_night\":", step);
            Assert.DoesNotContain("\"static\":", step);
            Assert.DoesNotContain("\"adv_night\":", step);
            Assert.DoesNotContain("\"d_day\":", step);
            Assert.False(File.Exists(Path.Combine(dir, DannetTrainer.CheckpointsFolder, "iter-000001", "d_day.pth")));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_diverging_run_stops_naming_the_loss_term_and_keeps_only_good_checkpoints()
    {
        string dir = NewDir("nan");
        try
        {
            var config = Tiny(6) with { Optim = Tiny(6).Optim with { GeneratorLr = 1e30 }, Run = Tiny(6).Run with { CheckpointEvery = 1 } };
            var ex = Assert.Throws<NonFiniteLossException>(() => new DannetTrainer(config, dir).Run(false));
            Assert.Contains($"Loss term '{ex.Term}'", ex.Message);
            Assert.Contains($"at iteration {ex.Iteration}", ex.Message);
            var store = new CheckpointStore(Path.Combine(dir, DannetTrainer.CheckpointsFolder), 2);
            // The iteration named is the one that went wrong, counted as progress and metrics.jsonl count (from 1): no checkpoint holds it.
            Assert.All(store.Complete(), c => Assert.True(c.State.Iteration < ex.Iteration));
            Assert.Contains(store.Complete(), c => c.State.Iteration == ex.Iteration - 1);
            Assert.Empty(Directory.GetDirectories(Path.Combine(dir, DannetTrainer.CheckpointsFolder), "*.tmp*"));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void Data_problems_stop_the_run_before_anything_is_written()
    {
        string broken = data.CopyTo("broken");
        string dir = NewDir("nodata");
        try
        {
            File.Delete(Path.Combine(broken, "dark_zurich", "zurich_dn_pair_train.csv"));
            Directory.Delete(Path.Combine(broken, "dark_zurich", "corresp"), true);
            var config = Tiny(2) with { Data = Tiny(2).Data with { Target = Path.Combine(broken, "dark_zurich") } };
            var ex = Assert.Throws<DatasetException>(() => new DannetTrainer(config, dir).Run(false));
            Assert.Contains("No day/night pair list", ex.Message);
            Assert.False(Directory.Exists(dir));
        }
        finally
        {
            Directory.Delete(broken, true);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_second_run_into_the_same_folder_must_say_resume()
    {
        string dir = NewDir("twice");
        try
        {
            new DannetTrainer(Tiny(1, TrainingMode.SourceOnly), dir).Run(false);
            var ex = Assert.Throws<ArgumentException>(() => new DannetTrainer(Tiny(1, TrainingMode.SourceOnly), dir).Run(false));
            Assert.Contains("--resume", ex.Message);
            var other = Tiny(2, TrainingMode.SourceOnly);
            var mismatch = Assert.Throws<ArgumentException>(() => new DannetTrainer(other, dir).Run(true));
            Assert.Contains("written with config", mismatch.Message);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_run_folder_evaluates_and_predicts_with_the_reference_protocol()
    {
        string dir = NewDir("evaluate");
        string predictions = NewDir("predictions");
        try
        {
            new DannetTrainer(Tiny(1), dir).Run(false);
            using var nets = ModelSource.Resolve(dir).Load();
            Assert.NotNull(nets.Light);
            Assert.Null(nets.DayDiscriminator);
            var test = DarkZurichDataset.LabelledNight(data.DarkZurich, "test");
            var weights = DANNet.Trainer.Losses.ClassWeights.FromFrequencies(DANNet.Trainer.Losses.ClassWeights.CityscapesFrequencies, 0.16);
            var result = DANNet.Trainer.Evaluation.Evaluator.Evaluate(nets, "test", test.Samples, 72, 128, weights, predictions);
            Assert.Equal(4, result.Images);
            Assert.Equal(19, result.ClassIoU.Count);
            long pixels = Enumerable.Range(0, 19).Sum(t => Enumerable.Range(0, 19).Sum(p => result.Confusion[t, p]));
            Assert.Equal(4L * 256 * 144, pixels); // night labels have no ignored pixels
            foreach (var s in test.Samples)
            {
                using var ids = OpenCvSharp.Cv2.ImRead(Path.Combine(predictions, s.Name + "_trainIds.png"), OpenCvSharp.ImreadModes.Unchanged);
                Assert.Equal(new OpenCvSharp.Size(256, 144), ids.Size());
                Assert.True(File.Exists(Path.Combine(predictions, s.Name + "_colour.png")));
            }
        }
        finally
        {
            foreach (var d in new[] { dir, predictions }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    /// <summary>The run's evaluation size and class frequencies travel with its checkpoint into export, eval and predict, and into the ONNX metadata.</summary>
    [Fact]
    public void A_checkpoint_carries_how_the_model_is_run_into_export()
    {
        string dir = NewDir("contract");
        try
        {
            Directory.CreateDirectory(dir);
            var frequencies = Enumerable.Range(1, 19).Select(k => k / 190.0).ToArray();
            string frequencyFile = Path.Combine(dir, "frequencies.json");
            File.WriteAllText(frequencyFile, new JsonObject { ["frequencies"] = new JsonArray(frequencies.Select(f => (JsonNode?)f).ToArray()) }.ToJsonString());
            var config = Tiny(1, TrainingMode.SourceOnly) with { Data = Tiny(1).Data with { ClassFrequencies = frequencyFile } };
            string run = Path.Combine(dir, "run");
            new DannetTrainer(config, run).Run(false);

            var source = ModelSource.Resolve(run);
            Assert.Equal((72, 128), (source.Inference.Height, source.Inference.Width));
            Assert.Equal(frequencies, source.Inference.ClassFrequencies);

            string onnx = Path.Combine(dir, "model.onnx");
            Assert.Equal(0, DANNet.Trainer.Cli.ExportCommands.Export().Parse(["-c", run, "-o", onnx]).Invoke());
            var model = DANNet.Model.Onnx.OnnxModels.Read(onnx);
            var meta = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
            Assert.Equal("72", meta[DANNet.Edge.Contracts.ModelMetadataKeys.InputHeight]);
            Assert.Equal("128", meta[DANNet.Edge.Contracts.ModelMetadataKeys.InputWidth]);
            var written = meta[DANNet.Edge.Contracts.ModelMetadataKeys.ClassFrequencies].Split(',').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(frequencies, written);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_run_exports_to_onnx_that_predicts_what_eval_predicts()
    {
        string dir = NewDir("export");
        try
        {
            new DannetTrainer(Tiny(1), dir).Run(false);
            string onnx = Path.Combine(dir, "model.onnx");
            Assert.Equal(0, DANNet.Trainer.Cli.ExportCommands.Export().Parse(["-c", dir, "--height", "72", "--width", "128", "-o", onnx]).Invoke());

            // The same image through the eval protocol (TorchSharp) and through the exported graph (ONNX Runtime).
            using var nets = ModelSource.Resolve(dir).Load();
            var sample = DarkZurichDataset.LabelledNight(data.DarkZurich, "test").Samples[0];
            using var loaded = sample.Load();
            using var image = loaded.Image.Resize(new OpenCvSharp.Size(128, 72), 0, 0, OpenCvSharp.InterpolationFlags.Linear);
            using var weights = TorchSharp.torch.tensor(DANNet.Trainer.Losses.ClassWeights.FromFrequencies(DANNet.Trainer.Losses.ClassWeights.CityscapesFrequencies, 0.16)).view(1, -1, 1, 1);
            using var expected = DANNet.Trainer.Evaluation.Evaluator.Predict(nets, image, 72, 128, weights, 72, 128);
            var expectedIds = expected.to(TorchSharp.torch.ScalarType.Byte).flatten().data<byte>().ToArray();

            using var session = DANNet.Trainer.Export.OnnxParity.CreateCpuSession(File.ReadAllBytes(onnx), 1);
            using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(DANNet.Trainer.Export.OnnxParity.ImageBytes(image), [1, 72, 128, 3]);
            using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
            using var outputs = session.Run(runOptions, ["image"], [input], ["mask"]);
            var mask = outputs[0].GetTensorDataAsSpan<byte>().ToArray();
            Assert.Equal(72 * 128, mask.Length);
            int agree = mask.Zip(expectedIds).Count(p => p.First == p.Second);
            Assert.True(agree >= 0.999 * mask.Length, $"{agree} of {mask.Length} pixels agree");

            // eval --onnx scores the exported model with the same confusion matrix: on images already at the model's
            // size (no resize on either side) its masks are the checkpoint's, so the confusion matrices agree to the same pixels.
            var samples = DarkZurichDataset.LabelledNight(data.DarkZurich, "test").Samples;
            using var segmenter = new DANNet.Model.OnnxSegmenter(onnx, threads: 1);
            Assert.Equal((72, 128), (segmenter.Height, segmenter.Width));
            using var segmented = segmenter.Segment(image);
            segmented.GetArray(out byte[] onnxIds);
            Assert.Equal(mask, onnxIds);
            var viaOnnx = DANNet.Trainer.Data.MaskEvaluation.Evaluate(segmenter.Segment, "test", samples);
            Assert.Equal(samples.Count, viaOnnx.Images);
            Assert.InRange(viaOnnx.MeanIoU, 0, 1);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
