using System.CommandLine;
using DANNet.Trainer.Cli;
using DANNet.Trainer.Data.SynthNight;

namespace DANNet.Trainer.Tests.Cli;

public sealed class CliTests
{
    [Fact]
    public void Synth_options_parse_scale_seed_and_jobs()
    {
        var command = SynthCommand.Create();
        var parse = command.Parse(["--out", "/tmp/x", "--scale", "tiny", "--seed", "42", "-j", "1"]);
        Assert.Empty(parse.Errors);
        Assert.Equal(SynthScale.Tiny, parse.GetValue(SynthCommand.Scale));
        Assert.Equal(42UL, parse.GetValue(SharedOptions.Seed));
        Assert.Equal(1, parse.GetValue(SynthCommand.Jobs));
    }

    [Fact]
    public void Synth_requires_out_and_rejects_an_unknown_scale()
    {
        var command = SynthCommand.Create();
        Assert.NotEmpty(command.Parse(["--scale", "tiny"]).Errors);
        Assert.NotEmpty(command.Parse(["--out", "/tmp/x", "--scale", "huge"]).Errors);
    }

    [Fact]
    public void Bad_jobs_value_gives_a_clear_error_and_exit_code_1()
    {
        var error = new StringWriter();
        int code = DANNet.Model.CommandErrors.Run(error, () =>
        {
            new SynthRun.SynthOptions("/tmp/never-written", SynthScale.Tiny, 1, 1, 0).Validate();
            return 0;
        });
        Assert.Equal(1, code);
        Assert.Contains("--jobs must be at least 1", error.ToString());
        Assert.False(Directory.Exists("/tmp/never-written"));
    }

    [Fact]
    public void Doctor_reports_torch_and_opencv_ok()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, DoctorCommand.Run(output, error));
        Assert.Contains("torch     ok", output.ToString());
        Assert.Contains("opencv    ok", output.ToString());
        Assert.Contains("FFMPEG: YES", output.ToString());
        // A convolution's forward and backward on every device libtorch lists: the CPU here, each CUDA device where there are some.
        int devices = 1 + DANNet.Trainer.Torch.TrainingDevice.CudaDevices();
        Assert.Equal(devices, output.ToString().Split('\n').Count(l => l.StartsWith("conv      ok    ", StringComparison.Ordinal)));
        Assert.Contains("conv      ok    cpu: a 3x3 convolution's forward and backward (gradient norm ", output.ToString());
        Assert.Equal("", error.ToString());
    }
}

public sealed class InspectCheckpointCommandTests
{
    [Fact]
    public void The_reference_LightNet_checkpoint_fits_and_the_discriminator_one_does_not()
    {
        var arch = DANNet.Trainer.Models.ArchitectureSpec.Parse("pspnet-r101");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, CheckpointCommand.Run(ReferenceData.File_("lightnet_seed2.pth"), arch, CheckpointCommand.NetRole.Light, output, error));
        Assert.Contains("68 keys match, nothing missing", output.ToString());

        output = new StringWriter();
        Assert.Equal(1, CheckpointCommand.Run(ReferenceData.File_("fc_discriminator_seed3.pth"), arch, CheckpointCommand.NetRole.Light, output, error));
        Assert.Contains("missing in the file (68)", output.ToString());
        Assert.Contains("unexpected in the file (10): classifier.bias", output.ToString());
    }
}

public sealed class EvalTableCommandTests
{
    [Fact]
    public void Evaluations_become_one_markdown_row_each()
    {
        string dir = Path.Combine(Path.GetTempPath(), "dannet-tests", "table-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string a = Path.Combine(dir, "a.json");
            File.WriteAllText(a, """{ "miou": 0.25, "iou": { "road": 0.9, "sidewalk": null, "bicycle": 0.05 } }""");
            string table = EvalTableCommand.Table([$"base={a}", $"again={a}"]);
            var lines = table.TrimEnd().Split('\n');
            Assert.Equal(4, lines.Length);
            Assert.StartsWith("| run | road | sidewalk |", lines[0]);
            Assert.StartsWith("| base | 90.0 | – |", lines[2]);
            Assert.EndsWith("| 5.0 | **25.0** |", lines[2]);
            var ex = Assert.Throws<ArgumentException>(() => EvalTableCommand.Table([$"x={dir}/missing.json"]));
            Assert.Contains("missing.json", ex.Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
