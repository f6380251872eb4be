using DANNet.Edge.Contracts;
using DANNet.Trainer.Diagnostics;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Backbones;
using DANNet.Trainer.Models.Pretrained;
using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Tests.Training;
using DANNet.Trainer.Training;
using OpenCvSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Models;

/// <summary>
/// The ImageNet ResNet-18 import, against ONNX Runtime running the NuGet package's own file on real
/// images. The package is restored with the trainer (a PackageDownload), so it is here wherever the
/// suite builds.
/// </summary>
[Collection(TinySynthNightCollection.Name)]
public sealed class PretrainedImportTests(TinySynthNightFixture data)
{
    private static readonly Lazy<ImageNetResNet18Files> s_files = new(ImageNetResNet18Files.Locate);

    [Fact]
    public void The_file_maps_onto_every_trunk_key_of_an_r18i_net()
    {
        var graph = ImageNetResNet18.Read(s_files.Value.Model);
        using var net = ArchitectureSpec.Parse("pspnet-r18i-l16").CreateSegmentationNet();
        var trunkKeys = net.state_dict().Keys
            .Where(k => (k.StartsWith("conv1", StringComparison.Ordinal) || k.StartsWith("bn1", StringComparison.Ordinal) || k.StartsWith("layer", StringComparison.Ordinal))
                && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        Assert.Equal(trunkKeys, graph.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(4, graph.StageOutputs.Count);
        Assert.Equal(64, graph.Sha256.Length);
    }

    [Fact]
    public void Loading_copies_the_files_tensors_and_converts_conv1_for_normalised_rgb()
    {
        var files = s_files.Value;
        var graph = ImageNetResNet18.Read(files.Model);
        var meanBgr = ImageNetResNet18.ReadMeanBgr(files.Preprocess);
        using var net = ArchitectureSpec.Parse("pspnet-r18i-l16").CreateSegmentationNet();
        var import = ImageNetResNet18.LoadInto(net, files);
        Assert.Equal(graph.Tensors.Count, import.Tensors);
        var state = net.state_dict();

        // A deep tensor is copied bit for bit.
        var (_, deep) = graph.Tensors["layer4.2.conv2.weight"];
        Assert.Equal(deep, state["layer4.2.conv2.weight"].data<float>().ToArray());

        // conv1: output o, RGB channel c takes the file's BGR channel 2 − c, scaled by 255·std[c].
        var (shape, w) = graph.Tensors["conv1.weight"];
        long k = shape[2] * shape[3];
        var ours = state["conv1.weight"].data<float>().ToArray();
        for (int c = 0; c < 3; c++)
            Assert.Equal(w[(5 * 3 + (2 - c)) * k + 7] * 255.0 * ModelContract.StdRgb[c], ours[(5 * 3 + c) * k + 7], 5);

        // bn1's running mean absorbs Σ w·(255·mean − file mean) for each output channel.
        double offset = 0;
        for (int c = 0; c < 3; c++)
            for (long i = 0; i < k; i++) offset += w[(9 * 3 + (2 - c)) * k + i] * (255.0 * ModelContract.MeanRgb[c] - meanBgr[2 - c]);
        Assert.Equal(graph.Tensors["bn1.running_mean"].Data[9] - offset, state["bn1.running_mean"].data<float>()[9], 4);
    }

    [Fact]
    public void The_imported_trunk_computes_what_onnx_runtime_computes_with_the_file_on_real_images()
    {
        using var check = new PretrainedCheck(s_files.Value, threads: 1);
        var images = Directory.EnumerateFiles(Path.Combine(data.DarkZurich, "rgb_anon"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(2)
            .Concat(Directory.EnumerateFiles(Path.Combine(data.Cityscapes, "leftImg8bit"), "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Take(1))
            .Select(f => (Name: Path.GetFileName(f), Image: Cv2.ImRead(f, ImreadModes.Color)))
            .Append(("night drive frame 50", VideoFrame(Path.Combine(RepositoryRoot.Folder, "assets", "synthnight-night-drive-640x360.avi"), 50)))
            .ToList();
        // Float32 rounding only: two implementations sum each output's K products in different orders
        // (error ~ √K·u relative, u = 2⁻²⁴) and the differences add up over the convolutions before a
        // stage; K is at most 3·3·512. The stages follow 1 + 4, 9, 14, 21 convolutions (pooled: 21).
        double Bound(int convolutions) => convolutions * Math.Sqrt(3 * 3 * 512) * Math.Pow(2, -24);
        int[] convolutionsBefore = [5, 9, 14, 21, 21];
        foreach (var (name, image) in images)
        {
            using (image)
            {
                var r = check.Compare(image, name);
                for (int s = 0; s < r.Exact.Count; s++)
                    Assert.True(r.Exact[s].Relative <= Bound(convolutionsBefore[s]),
                        $"{name} {r.Exact[s].Name}: relative difference {r.Exact[s].Relative:E2} > {Bound(convolutionsBefore[s]):E2}");
                Assert.True(1 - r.ExactCosine <= Bound(21), $"{name}: cosine {r.ExactCosine}");
                // With the package's per-channel mean folded into bn1 the functions differ only where conv1's
                // 7x7 window overlaps the zero padding (3 of 224 pixels each side), by under a level of input.
                Assert.True(r.ChannelMeanCosine > 0.9999, $"{name}: cosine against the file with its per-channel mean {r.ChannelMeanCosine}");
            }
        }
    }

    [Fact]
    public void A_missing_package_is_an_error_that_names_it_and_how_to_restore_it()
    {
        using var empty = TinyTraining.Scratch("no-packages");
        Directory.CreateDirectory(empty);
        var ex = Assert.Throws<PretrainedException>(() => ImageNetResNet18Files.Locate([empty]));
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1", ex.Message);
        Assert.Contains("dotnet restore", ex.Message);
        Assert.Contains(empty.Path, ex.Message);
    }

    [Fact]
    public void A_file_that_is_not_the_resnet_is_refused_with_its_name()
    {
        using var dir = TinyTraining.Scratch("not-resnet");
        Directory.CreateDirectory(dir);
        string text = Path.Combine(dir, "ResNet18.onnx");
        File.WriteAllText(text, "this is not a protobuf at all, just text");
        var ex = Assert.Throws<PretrainedException>(() => ImageNetResNet18.Read(text));
        Assert.Contains(text, ex.Message);

        // A real ONNX model of another net: the preprocessing graph (no convolutions, no residual additions).
        var other = Assert.Throws<PretrainedException>(() => ImageNetResNet18.Read(s_files.Value.Preprocess));
        Assert.Contains(s_files.Value.Preprocess, other.Message);
        Assert.Contains("residual additions", other.Message);
    }

    [Theory]
    [InlineData("pspnet-r18-w0.5-l16")]
    [InlineData("pspnet-r18i-w0.5-l16")]
    [InlineData("deeplabv2-r101")]
    public void Imagenet_weights_on_a_trunk_they_do_not_fit_are_a_config_error(string arch)
    {
        var ex = Assert.Throws<ArgumentException>(() => TrainingConfigLoader.Load(null, [$"model.architecture=\"{arch}\"", "model.pretrained=\"imagenet\""]));
        Assert.Contains("model.pretrained", ex.Message);
        Assert.Contains("r18i", ex.Message);
        var unknown = Assert.Throws<ArgumentException>(() => TrainingConfigLoader.Load(null, ["model.pretrained=\"coco\""]));
        Assert.Contains("model.pretrained: must be imagenet or none", unknown.Message);
    }

    [Fact]
    public void The_r18i_trunk_has_the_files_layout_whatever_the_head()
    {
        foreach (var head in new[] { "pspnet", "deeplabv2", "refinenet" })
        {
            var spec = ArchitectureSpec.Parse($"{head}-r18i-l16");
            Assert.Equal($"{head}-r18i-l16", spec.ToString());
            Assert.Equal(ResNetStem.Classic, spec.Trunk.Stem);
            Assert.False(spec.Trunk.CeilModeMaxPool);
            Assert.Equal([2, 2, 2, 3], spec.Trunk.BlocksPerLayer);
            Assert.True(spec.AcceptsImageNetResNet18);
        }
    }

    [Fact]
    public void A_run_with_imagenet_weights_starts_from_them_and_records_them()
    {
        using var dir = TinyTraining.Scratch("pretrained-run");
        var config = TinyTraining.Config(data, 1, TrainingMode.SourceOnly, checkpointEvery: 1);
        config = config with { Model = config.Model with { Architecture = "pspnet-r18i-l4", Pretrained = PretrainedWeights.ImageNet } };
        TrainingConfigLoader.Validate(config);
        new DannetTrainer(config, dir).Run(resume: false);

        var record = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, DannetTrainer.PretrainedFile)))!;
        Assert.Equal(ImageNetResNet18.Read(s_files.Value.Model).Sha256, (string)record["sha256"]!);
        Assert.Equal(110, (int)record["tensors"]!);
        Assert.Contains("\"pretrained\": \"imagenet\"", File.ReadAllText(Path.Combine(dir, DannetTrainer.ConfigFile)));

        // One SGD step at lr 2.5e-4 moves the trunk a little: the saved stem is still the file's, nearly.
        var graph = ImageNetResNet18.Read(s_files.Value.Model);
        using var net = ArchitectureSpec.Parse("pspnet-r18i-l4").CreateSegmentationNet();
        DANNet.Trainer.Models.Checkpoints.Checkpoint.Load(net, Directory.EnumerateFiles(Path.Combine(dir, DannetTrainer.CheckpointsFolder), "segmentation.pth", SearchOption.AllDirectories).Single());
        var saved = net.state_dict()["layer3.1.conv1.weight"].data<float>().ToArray();
        var file = graph.Tensors["layer3.1.conv1.weight"].Data;
        double moved = saved.Zip(file, (a, b) => Math.Abs(a - b)).Max(), scale = file.Max(Math.Abs);
        Assert.True(moved < 0.01 * scale, $"the trunk moved {moved} (file weights up to {scale}): it did not start from the file");
        Assert.True(moved > 0, "the trunk did not train");
    }

    [Fact]
    public void The_pretrained_command_reports_the_file_and_compares_on_folders_and_videos()
    {
        var output = new StringWriter();
        string video = Path.Combine(RepositoryRoot.Folder, "assets", "synthnight-night-drive-640x360.avi");
        Assert.Equal(0, DANNet.Trainer.Cli.PretrainedCommand.Run([data.DarkZurich, video], 1, output));
        string text = output.ToString();
        Assert.Contains(ImageNetResNet18.Read(s_files.Value.Model).Sha256, text);
        Assert.Contains("input mean  B 103.06, G 115.90, R 123.15", text);
        Assert.Contains("synthnight-night-drive-640x360.avi#0: exact layer1", text);
        Assert.Contains("2 images: exact input", text);
        // Label PNGs in the data set (one channel) are not compared.
        Assert.DoesNotContain("labelIds", text);

        var missing = Assert.Throws<FileNotFoundException>(() => DANNet.Trainer.Cli.PretrainedCommand.Run([Path.Combine(data.Root, "absent.avi")], 1, new StringWriter()));
        Assert.Contains("absent.avi", missing.Message);
    }

    private static Mat VideoFrame(string path, int index)
    {
        using var capture = new VideoCapture(path);
        capture.Set(VideoCaptureProperties.PosFrames, index);
        var frame = new Mat();
        Assert.True(capture.Read(frame) && !frame.Empty(), $"{path}: frame {index} not readable");
        return frame;
    }
}
