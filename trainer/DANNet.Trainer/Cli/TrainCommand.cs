using DANNet.Model;
using DANNet.Trainer.Data;
using System.CommandLine;
using System.Globalization;
using DANNet.Trainer.Evaluation;
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

    public static Command Create()
    {
        var command = new Command("train", "Train DANNet (or its ablations, a source-only baseline or a night-label oracle) with checkpoints, metrics, curves and evaluation on the night val set.")
        {
            Config, Out, Set, Mode, Arch, Iterations, Source, Target, Pretrained, Init, Device, NoLight, NoStatic, NoAdv, Resume, PrintConfig,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CommandErrors.Run(Console.Error, () =>
        {
            var config = TrainingConfigLoader.Load(parse.GetValue(Config)?.FullName, Overrides(parse));
            if (parse.GetValue(PrintConfig))
            {
                Console.WriteLine(TrainingConfigLoader.ToJson(config));
                return 0;
            }
            return Run(config, parse.GetValue(Out)!.FullName, parse.GetValue(Resume), AnsiConsole.Console, cancel);
        })));
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

    internal static int Run(TrainingConfig config, string outDir, bool resume, IAnsiConsole console, CancellationToken cancel)
    {
        console.MarkupLineInterpolated($"training [bold]{config.Model.Architecture}[/] ({config.Mode}) for {config.Optim.Iterations} iterations → {outDir}");
        TrainingSummary? summary = null;
        try
        {
            console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("starting", maxValue: config.Optim.Iterations);
                    var trainer = new DannetTrainer(config, outDir);
                    summary = trainer.Run(resume, new Diagnostics.InlineProgress<TrainingProgress>(p =>
                    {
                        task.Value = p.Iteration;
                        string terms = string.Join(" ", p.Terms.Select(kv => $"{kv.Key} {kv.Value:F3}"));
                        string miou = p.LastMeanIoU is { } v ? $" mIoU {100 * v:F1}" : "";
                        task.Description = Markup.Escape($"it {p.Iteration}/{p.Total} {terms} {p.ItPerSec:F2} it/s{miou}");
                    }), cancel);
                });
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
