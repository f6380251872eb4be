using DANNet.Model;
using DANNet.Trainer.Data;
using System.CommandLine;
using System.Globalization;
using DANNet.Trainer.Evaluation;
using DANNet.Trainer.Torch;
using DANNet.Trainer.Training;
using Spectre.Console;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train train</c>: DANNet, its ablations, source-only and oracle runs, resumable.</summary>
internal static class TrainCommand
{
    public static readonly Option<FileInfo?> Config = new("--config") { Description = "JSON config (typed sections: mode, data, model, optim, augment, loss, run). Defaults to the reference recipe." };
    public static readonly Option<DirectoryInfo> Out = new("--out", "-o")
    {
        Description = "Run folder: config.json, version.txt, pretrained.json, metrics.jsonl, checkpoints/, eval/, curves.png.", Required = true,
    };
    public static readonly Option<string[]> Set = new("--set") { Description = "Override a config value: section.field=value (repeatable), e.g. --set " +
        "optim.iterations=2000.", AllowMultipleArgumentsPerToken = false };
    public static readonly Option<TrainingMode?> Mode = new("--mode") { Description = "dannet, sourceonly or oracle.", HelpName = "dannet|sourceonly|oracle" };
    public static readonly Option<string?> Arch = new("--arch") { Description = "Architecture, e.g. pspnet-r101 or pspnet-r18-w0.5-l16." };
    public static readonly Option<int?> Iterations = new("--iterations") { Description = "Number of iterations (optim.iterations)." };
    public static readonly Option<string?> Source = new("--source") { Description = "Cityscapes-layout source root (data.source)." };
    public static readonly Option<string?> Target = new("--target") { Description = "Dark Zurich-layout target root (data.target)." };
    public static readonly Option<string?> Init = new("--init-segmentation") { Description = "Start the segmentation net from this PyTorch state dict (ours or an official .pth)." };
    public static readonly Option<string?> Pretrained = new("--pretrained") { Description = "Trunk weights to start from (model.pretrained): imagenet (the ImageNet " +
        "ResNet-18 of NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18, for r18i architectures such as pspnet-r18i-l16) or none.", HelpName = "imagenet|none" };
    public static readonly Option<string?> Device = new("--device") { Description = "Where to train (run.device): cpu, cuda, cuda:N, or auto (the default: " +
        "CUDA when this build and machine have it). CUDA needs a -p:TorchBackend=cuda build (docs/gpu-training.md).", HelpName = "cpu|cuda[:N]|auto" };
    public static readonly Option<bool> NoLight = new("--no-light") { Description = "Ablation: no LightNet and no light losses." };
    public static readonly Option<bool> NoStatic = new("--no-static") { Description = "Ablation: no static loss." };
    public static readonly Option<bool> NoAdv = new("--no-adv") { Description = "Ablation: no discriminators, no adversarial losses." };
    public static readonly Option<bool> Resume = new("--resume") { Description = "Continue from the latest checkpoint in --out (same config), exactly where it stopped." };
    public static readonly Option<bool> PrintConfig = new("--print-config") { Description = "Print the resolved config and exit." };
    public static readonly Option<bool> DryRun = new("--dry-run") { Description = "Time this run without doing it: a few iterations and night val images " +
        "in a scratch folder (deleted), then the estimated total for the requested iterations and evaluations." };

    public static Command Create()
    {
        var command = new Command("train", "Train DANNet (or its ablations, a source-only baseline or a night-label oracle) with checkpoints, metrics, curves and evaluation on the night val set.")
        {
            Config, Out, Set, Mode, Arch, Iterations, Source, Target, Pretrained, Init, Device, NoLight, NoStatic, NoAdv, Resume, PrintConfig, DryRun,
        };
        command.SetAction((parse, cancel) =>
        {
            string device = "the GPU";
            return Task.FromResult(CommandErrors.Run(Console.Error, () =>
        {
            var config = TrainingConfigLoader.Load(parse.GetValue(Config)?.FullName, Overrides(parse));
            device = config.Run.Device;
            string given = parse.GetValue(Device) is null ? "run.device" : "--device";
            if (parse.GetValue(PrintConfig))
            {
                Console.WriteLine(TrainingConfigLoader.ToJson(config));
                return 0;
            }
            if (parse.GetValue(DryRun)) return Estimate(config, AnsiConsole.Console, cancel, given);
            return Run(config, parse.GetValue(Out)!.FullName, parse.GetValue(Resume), AnsiConsole.Console, cancel, given);
        }, ex => TorchErrors.Describe(ex, device)));
        });
        return command;
    }

    /// <summary>The dedicated options, as <c>--set</c> assignments applied after the generic ones.</summary>
    private static List<string> Overrides(ParseResult parse)
    {
        var list = new List<string>(parse.GetValue(Set) ?? []);
        static string Quote(string s) => System.Text.Json.JsonSerializer.Serialize(s);
        if (parse.GetValue(Mode) is { } m) list.Add($"mode={Quote(m.ToString())}");
        if (parse.GetValue(Arch) is { } a) list.Add($"model.architecture={Quote(a)}");
        if (parse.GetValue(Iterations) is { } n) list.Add($"optim.iterations={n.ToString(CultureInfo.InvariantCulture)}");
        if (parse.GetValue(Source) is { } s) list.Add($"data.source={Quote(Path.GetFullPath(s))}");
        if (parse.GetValue(Target) is { } t) list.Add($"data.target={Quote(Path.GetFullPath(t))}");
        if (parse.GetValue(Pretrained) is { } p) list.Add($"model.pretrained={Quote(p.ToLowerInvariant())}");
        if (parse.GetValue(Device) is { } d) list.Add($"run.device={Quote(d.ToLowerInvariant())}");
        if (parse.GetValue(Init) is { } i) list.Add($"model.initSegmentation={Quote(Path.GetFullPath(i))}");
        if (parse.GetValue(NoLight)) list.Add("loss.useLight=false");
        if (parse.GetValue(NoStatic)) list.Add("loss.useStatic=false");
        if (parse.GetValue(NoAdv)) list.Add("loss.useAdversarial=false");
        return list;
    }

    /// <summary>
    /// "it 120/1200 (10 %) seg 0.512 light 0.031 … 0.42 it/s, ETA 43 min 10 s, night val mIoU 7.3" while training
    /// ("ETA 40 min + 10 evaluations" until an evaluation has been timed);
    /// "evaluating night val 12/25 (after it 600)" while evaluating.
    /// </summary>
    internal static string ProgressLine(TrainingProgress p)
    {
        var inv = CultureInfo.InvariantCulture;
        string miou = p.LastMeanIoU is { } v ? string.Create(inv, $", night val mIoU {100 * v:F1}") : "";
        return p.Phase switch
        {
            TrainingPhase.Evaluating => $"evaluating night val {p.Evaluated.Done}/{p.Evaluated.Total} (after it {p.Iteration})",
            TrainingPhase.Done => $"done: {p.Iteration} iterations{miou}",
            _ => string.Create(inv, $"it {p.Iteration}/{p.Total} ({100.0 * p.Iteration / Math.Max(1, p.Total):F0} %) ") +
                string.Join(" ", p.Terms.Select(kv => string.Create(inv, $"{kv.Key} {kv.Value:F3}"))) +
                (p.ItPerSec > 0 ? string.Create(inv, $" | {p.ItPerSec:F2} it/s") : " | measuring speed") +
                (p.Eta is { } eta ? $", ETA {TrainingClock.Format(eta)}" + p.EtaLeavesOut switch
                {
                    0 => "",
                    1 => " + 1 evaluation",
                    long n => $" + {n} evaluations",
                } : "") + miou,
        };
    }

    /// <summary>
    /// <c>train --dry-run</c>: the run's own set-up and <see cref="DryRunIterations"/> of its iterations in a scratch folder, two night val
    /// images, then the estimate — the first iteration apart (warm-up), the others' median per iteration.
    /// </summary>
    internal static int Estimate(TrainingConfig config, IAnsiConsole console, CancellationToken cancel, string given = "run.device")
    {
        var device = TrainingDevice.Resolve(config.Run.Device, given);
        string scratch = Directory.CreateTempSubdirectory("dannet-train-dry-run-").FullName;
        try
        {
            console.MarkupLineInterpolated($"dry run of [bold]{config.Model.Architecture}[/] ({config.Mode}) on {device}: {DryRunIterations} iterations and 2 night val images…");
            var summary = new DannetTrainer(config, scratch).Run(false, new Diagnostics.InlineProgress<TrainingProgress>(p =>
            {
                if (p.Note is { } note) console.Profile.Out.Writer.WriteLine(note);
            }), cancel, new DryRun(DryRunIterations, 2));
            console.Profile.Out.Writer.WriteLine(DryRunReport(config, device.ToString(), summary));
            return 0;
        }
        finally
        {
            Directory.Delete(scratch, true);
        }
    }

    public const int DryRunIterations = 5;

    internal static string DryRunReport(TrainingConfig config, string device, TrainingSummary s)
    {
        var inv = CultureInfo.InvariantCulture;
        var steady = s.IterationSeconds.Skip(1).Order().ToList();
        double perIteration = steady.Count == 0 ? s.IterationSeconds.DefaultIfEmpty(0).Single() : steady[steady.Count / 2];
        double training = perIteration * config.Optim.Iterations;
        double evaluating = (s.EvaluationSecondsPerImage ?? 0) * s.ValidationImages * s.Evaluations;
        string threads = config.Run.Threads > 0 ? $", {config.Run.Threads} thread{(config.Run.Threads == 1 ? "" : "s")}" : "";
        var lines = new List<string>
        {
            string.Create(inv, $"first iteration {s.IterationSeconds.FirstOrDefault():F2} s (warm-up); then {perIteration:F2} s per iteration (median of {steady.Count})"),
            $"training: {config.Optim.Iterations} iterations × {perIteration.ToString("F2", inv)} s ≈ {TrainingClock.Format(TimeSpan.FromSeconds(training))}",
            s.ValidationImages > 0
                ? string.Create(inv, $"evaluation: {s.Evaluations} × {s.ValidationImages} night val images × {s.EvaluationSecondsPerImage:F2} s") +
                    $" ≈ {TrainingClock.Format(TimeSpan.FromSeconds(evaluating))}"
                : "evaluation: none (the target has no gt/val/night)",
            $"estimated total ≈ {TrainingClock.Format(TimeSpan.FromSeconds(training + evaluating))} on {device}{threads} (checkpoints not included)",
        };
        return string.Join(Environment.NewLine, lines);
    }

    internal static int Run(TrainingConfig config, string outDir, bool resume, IAnsiConsole console, CancellationToken cancel, string given = "run.device")
    {
        var device = TrainingDevice.Resolve(config.Run.Device, given); // a device that is not here is refused before anything is said or written
        console.MarkupLineInterpolated($"training [bold]{config.Model.Architecture}[/] ({config.Mode}) on {device} for {config.Optim.Iterations} iterations → {outDir}");
        TrainingSummary? summary = null;
        try
        {
            var trainer = new DannetTrainer(config, outDir);
            if (console.Profile.Capabilities.Interactive)
                console.Progress()
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("reading the data and building the nets", maxValue: config.Optim.Iterations);
                        summary = trainer.Run(resume, new Diagnostics.InlineProgress<TrainingProgress>(p =>
                        {
                            if (p.Note is { } note) console.MarkupLineInterpolated($"[grey]{note}[/]");
                            task.Value = p.Iteration;
                            task.Description = Markup.Escape(ProgressLine(p));
                        }), cancel);
                    });
            else
            {
                // Redirected (a log file, CI): plain lines, at most one every 30 s besides notes and evaluations — no redrawn bar.
                var plain = console.Profile.Out.Writer; // whole lines, not wrapped at the console's width
                var last = DateTime.MinValue;
                var phase = TrainingPhase.Training;
                summary = trainer.Run(resume, new Diagnostics.InlineProgress<TrainingProgress>(p =>
                {
                    if (p.Note is { } note) plain.WriteLine(note);
                    bool changed = p.Phase != phase;
                    phase = p.Phase;
                    if (!changed && p.Phase != TrainingPhase.Done && DateTime.UtcNow - last < TimeSpan.FromSeconds(30)) return;
                    last = DateTime.UtcNow;
                    plain.WriteLine(ProgressLine(p));
                }), cancel);
            }
        }
        catch (NonFiniteLossException ex)
        {
            console.MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
            return 2;
        }
        console.MarkupLineInterpolated($"done: {summary!.Iterations} iterations; last checkpoint {summary.LastCheckpoint}");
        if (summary.FinalMeanIoU is { } m) console.MarkupLineInterpolated($"night val mIoU {EvaluationReport.Percent(m).Trim()} (per class: {Path.Combine(outDir, "eval", "iou.json")})");
        console.MarkupLineInterpolated($"curves: {summary.CurvesPng}");
        return 0;
    }
}
