using DANNet.Trainer.Cli;
using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Checkpoints;
using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Tests.Export;
using DANNet.Trainer.Training;

namespace DANNet.Trainer.Tests.Cli;

/// <summary>One way to name a model in every command: official-style .pth weights work for predict and eval as for export.</summary>
[Collection(SerialCollection.Name)]
public sealed class ModelSourceTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dannet-tests", "model-source-" + Guid.NewGuid().ToString("N"));

    public ModelSourceTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    private (string Segmentation, string Light) WritePthPair(string arch)
    {
        var (light, segmentation) = ExportTestNets.Create(ArchitectureSpec.Parse(arch), 32, 32);
        string seg = Path.Combine(_dir, "seg.pth"), lightPth = Path.Combine(_dir, "light.pth");
        Checkpoint.Save(segmentation, seg);
        Checkpoint.Save(light, lightPth);
        light.Dispose();
        segmentation.Dispose();
        return (seg, lightPth);
    }

    [Fact]
    public void Predict_takes_a_pth_pair_with_its_architecture()
    {
        var (seg, light) = WritePthPair("pspnet-r18-w0.25-l4");
        string image = Path.Combine(_dir, "frame.png");
        using (var pattern = DANNet.Trainer.Export.ModelExport.TestPattern(48, 64)) OpenCvSharp.Cv2.ImWrite(image, pattern);
        string outDir = Path.Combine(_dir, "out");

        int status = EvalCommands.Predict().Parse(["--segmentation", seg, "--light", light, "--arch", "pspnet-r18-w0.25-l4", "-i", image, "--height", "32", "--width", "48", "-o", outDir]).Invoke();

        Assert.Equal(0, status);
        using var ids = OpenCvSharp.Cv2.ImRead(Path.Combine(outDir, "frame_trainIds.png"), OpenCvSharp.ImreadModes.Unchanged);
        Assert.Equal(new OpenCvSharp.Size(64, 48), ids.Size());
        Assert.True(File.Exists(Path.Combine(outDir, "frame_colour.png")));
    }

    [Fact]
    public void The_source_says_what_it_is_and_loads_exactly()
    {
        var (seg, light) = WritePthPair("pspnet-r18-w0.25-l4");
        var withLight = ModelSource.Resolve(null, seg, light, "pspnet-r18-w0.25-l4");
        Assert.True(withLight.UseLight);
        Assert.Null(withLight.CheckpointDir);
        Assert.Contains("seg.pth + ", withLight.Description);
        using (var nets = withLight.Load())
        {
            Assert.NotNull(nets.Light);
            Assert.False(nets.Segmentation.training);
        }
        using (var nets = ModelSource.Resolve(null, seg, architecture: "pspnet-r18-w0.25-l4").Load()) Assert.Null(nets.Light);
        // For predict, eval, export and compare: on the device, every convolution checked as training checks them — in this process
        // the module initializer has settled the kernels already, so nothing is left to note and nothing is off.
        var notes = new List<string>();
        using (var nets = withLight.Load(TorchSharp.torch.CPU, notes.Add))
        {
            Assert.Empty(notes);
            Assert.False(nets.Light!.training);
            var faults = DANNet.Trainer.Torch.ConvolutionCheck.Run(nets.ByName(), TorchSharp.torch.CPU);
            Assert.True(faults.Count == 0, string.Join("; ", faults));
        }

        var wrongArch = ModelSource.Resolve(null, seg, light, "pspnet-r18-w0.5-l4");
        Assert.Throws<CheckpointException>(() => wrongArch.Load());
        Assert.Contains("No weights file", Assert.Throws<FileNotFoundException>(() => ModelSource.Resolve(null, Path.Combine(_dir, "none.pth"), architecture: "pspnet-r18")).Message);
        Assert.Contains("neither a checkpoint folder", Assert.Throws<ArgumentException>(() => ModelSource.Resolve(_dir)).Message);
        Assert.Contains("--light goes with --segmentation", Assert.Throws<ArgumentException>(() => ModelSource.Resolve(_dir, lightPth: light)).Message);
    }

    [Fact]
    public void Predict_without_out_is_refused_before_any_work()
    {
        var parse = EvalCommands.Predict().Parse(["-c", _dir, "-i", _dir]);
        Assert.NotEmpty(parse.Errors);
        Assert.Contains(parse.Errors, e => e.Message.Contains("--out"));
    }
}
