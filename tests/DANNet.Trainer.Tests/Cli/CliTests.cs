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

    /// <summary>
    /// The real loader: in a mount namespace of its own, libgtk-3 (which OpenCV's native library needs) is replaced by an empty file, as on a
    /// machine that lacks it; synth must say so in one line with the package, exit 1, and write nothing. Needs root for the namespace, as CI runs.
    /// </summary>
    [Fact]
    public async Task Synth_without_a_library_opencv_needs_is_one_line_naming_the_package()
    {
        string gtk = new FileInfo("/usr/lib/x86_64-linux-gnu/libgtk-3.so.0").ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? "/usr/lib/x86_64-linux-gnu/libgtk-3.so.0";
        Assert.True(File.Exists(gtk), $"{gtk}: build.sh installs libgtk-3-0");
        string outDir = Path.Combine(Directory.CreateTempSubdirectory("dannet-native-").FullName, "synth");
        var (code, stdout, stderr) = await RunProcess("unshare",
            "-m", "sh", "-c", $"mount --bind /dev/null '{gtk}' && exec dotnet '{Trainer}' synth --scale tiny --out '{outDir}'");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"exit {code}, stderr:\n{stderr}\nstdout:\n{stdout}");
        Assert.Equal(1, code);
        Assert.StartsWith("error: OpenCV's native library libOpenCvSharpExtern.so cannot be loaded: libgtk-3.so.0 is missing", lines[0]);
        Assert.Contains("apt-get install libgtk-3-0", lines[0]);
        Assert.False(File.Exists(Path.Combine(outDir, "synthnight.json")));
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
        // The kernels line: this process settled oneDNN before the tests (ConvolutionKernels), so it is right now and says which kernels run.
        string oneDnn = DANNet.Trainer.Torch.OneDnn.Enabled ? "on" : "off";
        Assert.Contains("kernels   ok    cpu: every convolution of pspnet-r18i-l16, LightNet and the discriminators within float32 rounding of " +
            $"the exact value (oneDNN {oneDnn})", output.ToString());
        Assert.Equal("", error.ToString());
    }

    /// <summary>
    /// libtorch asks whether NNPACK is available at every CPU convolution, and where it cannot initialise (our VMs) prints a warning each
    /// time — a thousand lines in a 1200-iteration log before it was switched off. A doctor run, which trains the check's nets, prints at
    /// most the one warning of the first asking, and says whether NNPACK is off.
    /// </summary>
    [Fact]
    public async Task Doctor_prints_libtorchs_nnpack_warning_at_most_once()
    {
        var (code, stdout, stderr) = await RunProcess("dotnet", Trainer, "doctor");
        Assert.True(code == 0, $"exit {code}: {stderr}");
        int warnings = stderr.Split('\n').Count(l => l.Contains("NNPACK", StringComparison.Ordinal));
        bool available = DANNet.Trainer.Torch.Nnpack.SwitchOffWhereUnavailable();
        Assert.Equal(available ? 0 : 1, warnings);
        Assert.Contains(available ? "nnpack    ok    " : "nnpack    off   ", stdout);
    }

    /// <summary>The built dannet-train beside the tests.</summary>
    private static string Trainer => Path.Combine(AppContext.BaseDirectory, "dannet-train.dll");

    /// <summary>Runs a program to its end: its exit code and what it wrote to each stream.</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> RunProcess(string program, params string[] arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = System.Diagnostics.Process.Start(info)!;
        var stdoutRead = p.StandardOutput.ReadToEndAsync();
        string stderr = await p.StandardError.ReadToEndAsync();
        string stdout = await stdoutRead;
        await p.WaitForExitAsync();
        return (p.ExitCode, stdout, stderr);
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

public sealed class CurvesCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "dannet-tests", "curves-" + Guid.NewGuid().ToString("N"));

    public CurvesCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>A run folder whose metrics.jsonl the trainer's own writer made: terms every 10 iterations, mIoU every 20.</summary>
    private string Run(string name, int iterations, double miouSlope, bool adversarial)
    {
        string folder = Path.Combine(_dir, name);
        Directory.CreateDirectory(folder);
        var log = new DANNet.Trainer.Training.MetricsLog(Path.Combine(folder, DANNet.Trainer.Training.DannetTrainer.MetricsFile));
        for (int it = 10; it <= iterations; it += 10)
        {
            var terms = new Dictionary<string, double> { ["seg"] = 1.0 / it, ["static"] = 0.5 };
            if (adversarial) { terms["adv_night"] = 0.25; terms["d_day"] = 0.2; terms["d_night"] = 0.3; }
            log.Append(DANNet.Trainer.Training.MetricsLog.Step(it, 0.01, 0.001, 1.0, terms));
            if (it % 20 == 0)
                log.Append(DANNet.Trainer.Training.MetricsLog.Evaluation(it,
                    new DANNet.Trainer.Data.EvaluationResult("val", 2, miouSlope * it, [miouSlope * it], new DANNet.Edge.Contracts.ConfusionMatrix())));
        }
        return folder;
    }

    [Fact]
    public void Runs_share_one_iteration_axis_and_each_term_panel_has_the_runs_that_logged_it()
    {
        string pre = Run("pre", 40, 0.001, adversarial: false), adapted = Run("adapted", 60, 0.002, adversarial: true);
        var runs = new[] { $"pretrain={pre}", $"DANNet={adapted}@40" }.Select(DANNet.Trainer.Training.RunComparison.Run.Parse).ToList();
        var panels = DANNet.Trainer.Training.RunComparison.Panels(runs, ["static", "d_night"], smooth: 1);

        Assert.Equal(["night val mIoU (%)", "static", "d_night"], panels.Select(p => p.Title));
        // mIoU in percent; the adaptation run's iterations start where the pretraining's stopped.
        Assert.Equal([(20L, 2.0), (40L, 4.0)], panels[0].Series["pretrain"]);
        Assert.Equal([(60L, 4.0), (80L, 8.0), (100L, 12.0)], panels[0].Series["DANNet"]);
        Assert.Equal(["pretrain", "DANNet"], panels[1].Series.Keys);
        Assert.Equal(["DANNet"], panels[2].Series.Keys);   // only the adversarial run has discriminators
        Assert.Equal(50L, panels[2].Series["DANNet"][0].X);

        // An offset far beyond any run (the ticks are bounded whatever the magnitudes) still draws.
        using var far = DANNet.Trainer.Training.RunComparison.Draw(runs,
            DANNet.Trainer.Training.RunComparison.Panels([DANNet.Trainer.Training.RunComparison.Run.Parse($"far={adapted}@{long.MaxValue / 2}")], ["d_night"], 1));
        Assert.Equal(2 * 280, far.Height);

        // The picture: one 280-pixel panel per entry, written as a PNG that OpenCV reads back.
        string png = Path.Combine(_dir, "curves.png");
        string line = CurvesCommand.Write([$"pretrain={pre}", $"DANNet={adapted}@40"], png, ["static", "d_night"], 1);
        Assert.Contains("2 runs, 5 night val evaluations", line);
        using var read = OpenCvSharp.Cv2.ImRead(png);
        Assert.Equal((1000, 3 * 280), (read.Width, read.Height));
    }

    [Fact]
    public void A_single_run_folder_alone_draws_that_runs_own_picture()
    {
        string adapted = Run("own", 60, 0.002, adversarial: true);
        string png = Path.Combine(_dir, "own.png");
        string line = CurvesCommand.Write([adapted], png, ["static"], 1);
        Assert.Equal($"{png}: the run {adapted}, every loss term, 3 night val evaluations", line);
        // As training draws it: generator terms, discriminator losses, night val mIoU — three panels of the plot's default height.
        using var read = OpenCvSharp.Cv2.ImRead(png);
        Assert.Equal((1000, 3 * 320), (read.Width, read.Height));
        var missing = Assert.Throws<ArgumentException>(() => CurvesCommand.Write([Path.Combine(_dir, "none")], png, [], 1));
        Assert.Contains($"'{Path.Combine(_dir, "none", "metrics.jsonl")}' does not exist", missing.Message);
    }

    [Fact]
    public void Smoothing_averages_logged_points()
    {
        string run = Run("r", 40, 0.001, adversarial: false);
        var panels = DANNet.Trainer.Training.RunComparison.Panels([DANNet.Trainer.Training.RunComparison.Run.Parse($"r={run}")], ["seg"], smooth: 2);
        Assert.Equal("seg (moving average of 2 logged points)", panels[1].Title);
        var s = panels[1].Series["r"];
        Assert.Equal(1.0 / 10, s[0].Y, 12);
        Assert.Equal((1.0 / 10 + 1.0 / 20) / 2, s[1].Y, 12);
        Assert.Equal((1.0 / 30 + 1.0 / 40) / 2, s[3].Y, 12);
    }

    [Fact]
    public void Bad_runs_terms_and_metrics_are_named()
    {
        string run = Run("r", 20, 0.001, adversarial: false);
        ArgumentException Fails(string spec, params string[] terms) =>
            Assert.ThrowsAny<ArgumentException>(() => DANNet.Trainer.Training.RunComparison.Panels([DANNet.Trainer.Training.RunComparison.Run.Parse(spec)], terms, 1));

        Assert.Contains("expected name=run-folder", Fails(run).Message);
        Assert.Contains("'@x1' is not an iteration", Fails($"r={run}@x1").Message);
        Assert.Contains("'@-5' is not an iteration", Fails($"r={run}@-5").Message);
        Assert.Contains($"'{Path.Combine(_dir, "none", "metrics.jsonl")}' does not exist", Fails($"r={Path.Combine(_dir, "none")}").Message);
        var unknown = Fails($"r={run}", "d_night");
        Assert.Contains("no run logged 'd_night'; the runs logged: seg, static", unknown.Message);
        var twice = Assert.Throws<ArgumentException>(() => DANNet.Trainer.Training.RunComparison.Panels(
            [DANNet.Trainer.Training.RunComparison.Run.Parse($"r={run}"), DANNet.Trainer.Training.RunComparison.Run.Parse($"r={run}")], [], 1));
        Assert.Contains("'r' is given twice", twice.Message);
    }

    [Fact]
    public void A_record_cut_at_the_end_is_left_out_and_a_damaged_one_before_it_is_named()
    {
        string run = Run("r", 40, 0.001, adversarial: false);
        string metrics = Path.Combine(run, "metrics.jsonl");
        File.AppendAllText(metrics, "{\"iteration\":50,\"terms\":{\"seg\":0.");   // a write in progress, or cut by a crash
        var (terms, miou) = new DANNet.Trainer.Training.MetricsLog(metrics).Read();
        Assert.Equal(4, terms["seg"].Count);
        Assert.Equal(2, miou.Count);

        var lines = File.ReadAllLines(metrics);
        lines[2] = "{\"iteration\":\"twenty\"}";
        File.WriteAllLines(metrics, lines);
        var ex = Assert.Throws<InvalidDataException>(() => new DANNet.Trainer.Training.MetricsLog(metrics).Read());
        Assert.Contains($"'{metrics}' line 3 is not a metrics record", ex.Message);
    }
}

public sealed class CurvePlotTests
{
    [Theory]
    [InlineData(0.3, 1)]
    [InlineData(1.0, 1)]
    [InlineData(436.0, 500)]
    [InlineData(200.0, 200)]
    [InlineData(201.0, 500)]
    [InlineData(6400.0, 10000)]
    [InlineData(12.0, 20)]
    public void Iteration_ticks_are_round_numbers(double rough, double step) =>
        Assert.Equal(step, DANNet.Trainer.Training.CurvePlot.RoundStep(rough));

    [Theory]
    [InlineData(0, 16.2, 0, 20, 5, 0)]         // night val mIoU: 0, 5, ... 20 — not 4.06, 8.11, 12.2, 16.2
    [InlineData(0, 0.415, 0, 0.5, 0.1, 1)]     // a discriminator's loss
    [InlineData(0, 0.752, 0, 0.8, 0.2, 1)]
    [InlineData(0, 3.0, 0, 3, 0.5, 1)]         // an exact multiple is the top, not one step above it
    [InlineData(-0.3, 1.2, -0.5, 1.5, 0.5, 1)]   // 0.25 would take 7 steps
    [InlineData(0, 14, 0, 15, 2.5, 1)]
    [InlineData(0, 60000, 0, 60000, 10000, 0)]
    [InlineData(0, 0.0013, 0, 0.0015, 0.00025, 5)]
    [InlineData(2, 2, 2, 3, 0.2, 1)]           // a flat series still gets an axis
    public void Value_ticks_are_round_and_cover_the_data_in_at_most_six_steps(double lo, double hi, double a, double b, double step, int decimals)
    {
        var (axisLo, axisHi, axisStep) = DANNet.Trainer.Training.CurvePlot.ValueAxis(lo, hi);
        Assert.Equal(step, axisStep, 12);
        Assert.Equal(a, axisLo, 12);
        Assert.Equal(b, axisHi, 12);
        Assert.True(axisLo <= lo && axisHi >= hi && (axisHi - axisLo) / axisStep <= 6 + 1e-9);
        Assert.Equal(decimals, DANNet.Trainer.Training.CurvePlot.Decimals(axisStep));
    }
}

public sealed class CurvesCommandParseTests
{
    [Fact]
    public void Terms_are_comma_separated_or_repeated_and_never_swallow_a_run()
    {
        var command = CurvesCommand.Create();
        var parse = command.Parse(["--out", "/tmp/c.png", "--terms", "seg,static", "--terms", "d_day", "a=runs/a", "b=runs/b@1200"]);
        Assert.Empty(parse.Errors);
        Assert.Equal(["seg,static", "d_day"], parse.GetValue(CurvesCommand.Terms)!);
        Assert.Equal(["a=runs/a", "b=runs/b@1200"], parse.GetValue(CurvesCommand.Runs)!);
        Assert.Equal(["static", "adv_night", "d_day", "d_night"], command.Parse(["--out", "x.png", "a=r"]).GetValue(CurvesCommand.Terms)!);
    }
}
