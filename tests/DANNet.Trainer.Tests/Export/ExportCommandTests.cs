using Google.Protobuf;
using DANNet.Model.Onnx;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Cli;
using DANNet.Trainer.Export;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Checkpoints;
using DANNet.Trainer.Onnx;
using DANNet.Trainer.Tests.Data.SynthNight;
using Onnx;

namespace DANNet.Trainer.Tests.Export;

/// <summary><c>dannet-train export</c> and <c>check-onnx</c> as a user runs them.</summary>
[Collection(SerialCollection.Name)]
public sealed class ExportCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dannet-tests", "export-" + Guid.NewGuid().ToString("N"));

    public ExportCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    private static int Invoke(params string[] args) => ExportCommands.Export().Parse(args).Invoke();

    [Fact]
    public void Official_style_pth_files_export_in_one_command_and_pass_the_readiness_check()
    {
        // The official release is a torch.save'd state dict per net (dannet_psp.pth, dannet_psp_light.pth);
        // files of the same format and keys stand in for them here.
        var architecture = ArchitectureSpec.Parse("pspnet-r101");
        var (light, segmentation) = ExportTestNets.Create(architecture, 64, 128);
        string psp = Path.Combine(_dir, "dannet_psp.pth"), lightPth = Path.Combine(_dir, "dannet_psp_light.pth");
        Checkpoint.Save(segmentation, psp);
        Checkpoint.Save(light, lightPth);
        string onnx = Path.Combine(_dir, "psp.onnx");

        // --no-verify: random ResNet-101 weights give logits in the hundreds, beyond a fixed 1e-4 bound;
        // parity on such nets is OnnxParityTests' job (with a float32-aware bound).
        Assert.Equal(0, Invoke("--segmentation", psp, "--light", lightPth, "--arch", "pspnet-r101", "--height", "64", "--width", "128", "-o", onnx, "--no-verify"));

        var model = DANNet.Model.Onnx.OnnxModels.Read(onnx);
        Assert.True(TensorRtReadiness.Check(model).Ready);
        var meta = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("pspnet-r101", meta[ModelMetadataKeys.Architecture]);
        Assert.Equal("true", meta[ModelMetadataKeys.Relighting]);
        Assert.Contains("dannet_psp.pth", meta[ModelMetadataKeys.Source]);
        Assert.Equal(0, ExportCommands.CheckOnnx().Parse([onnx]).Invoke());
    }

    [Fact]
    public void The_graph_is_static_folded_and_labelled()
    {
        var architecture = ArchitectureSpec.Parse("pspnet-r18-w0.25-l4");
        var (light, segmentation) = ExportTestNets.Create(architecture, 64, 96);
        var model = DannetExporter.Export(architecture, light, segmentation, ExportOptions.At(64, 96) with { Probabilities = true, Relit = true }, new ExportProvenance("test", "abc123"));

        Assert.Equal(17, model.OpsetImport.Single().Version);
        var ops = model.Graph.Node.Select(n => n.OpType).ToHashSet();
        Assert.DoesNotContain("BatchNormalization", ops);
        Assert.DoesNotContain("Dropout", ops);
        Assert.DoesNotContain("Identity", ops);
        Assert.DoesNotContain("Pad", ops);
        // No auxiliary head: PSPNet's dsn has 3x3 convs on layer3; none of its weights are exported.
        Assert.DoesNotContain(model.Graph.Initializer, i => i.Name.Contains("dsn", StringComparison.Ordinal));
        Assert.Equal([ModelContract.ImageInput], model.Graph.Input.Select(i => i.Name));
        Assert.Equal([ModelContract.RelitOutput, ModelContract.ProbabilitiesOutput, ModelContract.MaskOutput], model.Graph.Output.Select(o => o.Name));
        var mask = model.Graph.Output.Single(o => o.Name == ModelContract.MaskOutput).Type.TensorType;
        Assert.Equal((int)TensorProto.Types.DataType.Uint8, mask.ElemType);
        Assert.Equal([1L, 64, 96], mask.Shape.Dim.Select(d => d.DimValue));

        var meta = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(19, meta[ModelMetadataKeys.Classes].Split(',').Length);
        Assert.StartsWith("road,sidewalk,building", meta[ModelMetadataKeys.Classes]);
        Assert.Equal("#804080", meta[ModelMetadataKeys.Palette].Split(',')[0]);
        Assert.Equal("64", meta[ModelMetadataKeys.InputHeight]);
        Assert.Equal("96", meta[ModelMetadataKeys.InputWidth]);
        Assert.Equal("0.16", meta[ModelMetadataKeys.ReweightStrength]);
        Assert.Equal("abc123", meta[ModelMetadataKeys.ConfigHash]);
        Assert.Equal("1", meta[ModelMetadataKeys.FormatVersion]);
        Assert.Contains("BGR", meta[ModelMetadataKeys.Input]);
    }

    [Theory]
    [InlineData("deeplabv2-r18-w0.25-l4", 2, "dilations 6 and 12 (of 6, 12, 18, 24), as the reference")]
    [InlineData("deeplabv2aspp4-r18-w0.25-l4", 4, "all four branches")]
    public void DeepLab_v2_exports_the_branches_it_sums_and_says_so(string name, int branches, string head)
    {
        var architecture = ArchitectureSpec.Parse(name);
        var (light, segmentation) = ExportTestNets.Create(architecture, 32, 48);
        var model = DannetExporter.Export(architecture, light, segmentation, ExportOptions.At(32, 48) with { Resize = InputResize.Area }, new ExportProvenance("test"));
        // The main classifier's convolutions: one weight per summed branch, none for the others.
        var aspp = model.Graph.Initializer.Select(i => i.Name).Where(n => n.Contains("layer6", StringComparison.Ordinal) && n.Contains("conv2d_list", StringComparison.Ordinal)).ToList();
        Assert.Equal(branches, aspp.Select(n => n.Split("conv2d_list.")[1].Split('.', '/')[0]).Distinct().Count());
        var meta = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Contains(head, meta[ModelMetadataKeys.Head]);
        Assert.Equal("area", meta[ModelMetadataKeys.Resize]);
        Assert.Equal(name, meta[ModelMetadataKeys.Architecture]);
        Assert.Equal("antialiased", DannetExporter.Export(architecture, light, segmentation, ExportOptions.At(32, 48), new ExportProvenance("test"))
            .MetadataProps.Single(p => p.Key == ModelMetadataKeys.Resize).Value);
        light.Dispose();
        segmentation.Dispose();
    }

    [Fact]
    public void Bad_requests_name_the_problem_and_leave_an_existing_model_untouched()
    {
        string onnx = Path.Combine(_dir, "keep.onnx");
        File.WriteAllText(onnx, "previous model");
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(1, Invoke("-o", onnx));
            Assert.Contains("Name the model either with --checkpoint", error.ToString());
            Assert.Equal(1, Invoke("--segmentation", Path.Combine(_dir, "x.pth"), "-o", onnx));
            Assert.Contains("--segmentation needs --arch", error.ToString());

            var architecture = ArchitectureSpec.Parse("pspnet-r18-w0.25-l4");
            var (light, segmentation) = ExportTestNets.Create(architecture, 32, 32);
            string pth = Path.Combine(_dir, "small.pth");
            Checkpoint.Save(segmentation, pth);
            Assert.Equal(1, Invoke("--segmentation", pth, "--arch", "pspnet-r101", "-o", onnx));
            Assert.Contains("does not fit", error.ToString());
            string lightPth = Path.Combine(_dir, "light.pth");
            Checkpoint.Save(light, lightPth);
            Assert.Equal(1, Invoke("--segmentation", pth, "--light", lightPth, "--arch", "pspnet-r18-w0.25-l4", "--height", "66", "--width", "96", "-o", onnx));
            Assert.Contains("divisible by 4", error.ToString());
        }
        finally
        {
            Console.SetError(original);
        }
        Assert.Equal("previous model", File.ReadAllText(onnx));
    }

    /// <summary>
    /// Round 2, item 3: NaN weights are refused at load, naming the key (export, inspect-checkpoint); weights that load
    /// but make the graph overflow fail the parity check — and in neither case is the model at --out replaced.
    /// </summary>
    [Fact]
    public void Broken_weights_never_replace_the_model_at_out()
    {
        var architecture = ArchitectureSpec.Parse("pspnet-r18-w0.25-l4");
        var (light, segmentation) = ExportTestNets.Create(architecture, 32, 32);
        string onnx = Path.Combine(_dir, "good.onnx"), lightPth = Path.Combine(_dir, "light.pth"), nan = Path.Combine(_dir, "nan.pth"), huge = Path.Combine(_dir, "huge.pth");
        File.WriteAllText(onnx, "the good model");
        Checkpoint.Save(light, lightPth);
        using (TorchSharp.torch.no_grad())
        {
            segmentation.state_dict()["head.1.weight"].view(-1)[3] = TorchSharp.torch.tensor(float.NaN);
            Checkpoint.Save(segmentation, nan);
            foreach (var p in segmentation.parameters()) p.nan_to_num_().mul_(TorchSharp.torch.tensor(1e18f));
            Checkpoint.Save(segmentation, huge);
        }
        var output = new StringWriter();
        var original = (Console.Out, Console.Error);
        Console.SetOut(output);
        Console.SetError(output);
        try
        {
            string[] common = ["--light", lightPth, "--arch", "pspnet-r18-w0.25-l4", "--height", "32", "--width", "32", "-o", onnx];
            Assert.Equal(1, Invoke(["--segmentation", nan, .. common]));
            Assert.Contains("holds NaN or infinite weights in 1 tensor(s): head.1.weight (1 of", output.ToString());
            Assert.Equal(1, CheckpointCommand.Create().Parse(["--checkpoint", nan, "--arch", "pspnet-r18-w0.25-l4", "--net", "segmentation"]).Invoke());
            Assert.Equal(1, Invoke(["--segmentation", huge, .. common]));
            Assert.Contains($"not written: the checks above failed; '{onnx}' is unchanged", output.ToString());
        }
        finally
        {
            Console.SetOut(original.Out);
            Console.SetError(original.Error);
        }
        Assert.Equal("the good model", File.ReadAllText(onnx));
        light.Dispose();
        segmentation.Dispose();
    }

    [Fact]
    public void Check_onnx_refuses_a_file_that_is_not_a_model()
    {
        string bogus = Path.Combine(_dir, "bogus.onnx");
        File.WriteAllBytes(bogus, [0xff, 0xff, 0xff, 0x01, 0x02]);
        var ex = Assert.Throws<InvalidDataException>(() => DANNet.Model.Onnx.OnnxModels.Read(bogus));
        Assert.Contains("bogus.onnx", ex.Message);
        Assert.Throws<FileNotFoundException>(() => DANNet.Model.Onnx.OnnxModels.Read(Path.Combine(_dir, "missing.onnx")));
    }

    /// <summary>
    /// A batch export runs B images through one graph: each image's mask equals the batch-1 export's mask of that image (the same
    /// weights), the shapes are static [B,…], the card says [B,…], and the graph stays TensorRT-ready.
    /// </summary>
    [Theory]
    [InlineData("pspnet-r18-w0.25-l4")]
    [InlineData("refinenet-r18-w0.25-l4")]
    public void A_batch_export_gives_each_image_the_mask_of_the_single_image_export(string name)
    {
        var architecture = ArchitectureSpec.Parse(name);
        var (light, segmentation) = ExportTestNets.Create(architecture, 32, 48);
        var single = DannetExporter.Export(architecture, light, segmentation, ExportOptions.At(32, 48), new ExportProvenance("test"));
        var batch = DannetExporter.Export(architecture, light, segmentation, ExportOptions.At(32, 48) with { Batch = 3 }, new ExportProvenance("test"));
        Assert.True(TensorRtReadiness.Check(batch).Ready, TensorRtReadiness.Check(batch).ToString());
        Assert.Equal([3L, 32, 48], batch.Graph.Output.Single(o => o.Name == ModelContract.MaskOutput).Type.TensorType.Shape.Dim.Select(d => d.DimValue));
        Assert.Contains("[3,32,48,3]", batch.MetadataProps.Single(p => p.Key == ModelMetadataKeys.Input).Value);
        var images = new byte[3][];
        var random = new Random(11);
        for (int k = 0; k < 3; k++)
        {
            images[k] = new byte[32 * 48 * 3];
            random.NextBytes(images[k]);
        }
        using var one = new Microsoft.ML.OnnxRuntime.InferenceSession(single.ToByteArray());
        using var three = new Microsoft.ML.OnnxRuntime.InferenceSession(batch.ToByteArray());
        byte[] Masks(Microsoft.ML.OnnxRuntime.InferenceSession session, byte[] pixels, int count)
        {
            using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(pixels, [count, 32, 48, 3]);
            using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), [ModelContract.ImageInput], [input], [ModelContract.MaskOutput]);
            return outputs[0].GetTensorDataAsSpan<byte>().ToArray();
        }
        var together = Masks(three, [.. images.SelectMany(i => i)], 3);
        for (int k = 0; k < 3; k++) Assert.Equal(Masks(one, images[k], 1), together.AsSpan(k * 32 * 48, 32 * 48).ToArray());
        Assert.Throws<ArgumentException>(() => DannetExporter.Export(architecture, light, segmentation, ExportOptions.At(32, 48) with { Batch = 0 },
            new ExportProvenance("test")));
        light?.Dispose();
        segmentation.Dispose();
    }
}
