using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using DANNet.Edge.Validation;
using DANNet.Model;
using Microsoft.Extensions.Logging;

namespace DANNet.Edge.Cli;

/// <summary>
/// <c>dannet-edge validate</c>: many recorded drives through a new model and the deployed one, a report and a pass/fail exit code;
/// <c>validate merge</c>: the report of a sharded validation from its shards.
/// </summary>
internal static class ValidateCommand
{
    private static readonly Option<double?> MinAgreement = new("--min-agreement") { Description = "Fail (exit 4) when the two models give the same " +
        "class to less than this fraction of all pixels (e.g. 0.95).", HelpName = "fraction" };

    private static readonly Option<double?> MaxLatencyRatio = new("--max-latency-ratio") { Description = "Fail (exit 4) when the new model's p50 " +
        "latency over the baseline's exceeds this (e.g. 1.2: at most 20 % slower).", HelpName = "ratio" };

    private static readonly Option<double?> MinMiou = new("--min-miou") { Description = "Fail (exit 4) when the new model's mIoU over the labelled " +
        "frames is below this fraction (e.g. 0.40).", HelpName = "fraction" };

    private static ValidationGates Gates(ParseResult parse) => new(parse.GetValue(MinAgreement), parse.GetValue(MaxLatencyRatio), parse.GetValue(MinMiou));

    public static Command Create()
    {
        var drives = new Option<string>("--drives") { Description = "A folder of drives (each video file and each folder of images in it; labels for drive X in " +
            "X.labels/ beside it) or a manifest: one drive per line, then optionally labels=FOLDER and trainids.", Required = true, HelpName = "DIR|manifest.txt" };
        var model = new Option<string>("--model", "-m") { Description = "The new model (.onnx).", Required = true };
        var baseline = new Option<string?>("--baseline") { Description = "The model the cars run now: its masks and latency are compared with the new one's." };
        var output = new Option<string>("--out", "-o") { Description = "Report folder: report.md (with plots), validation.json, drives/, worst/. A shard " +
            "writes into OUT/shard-I-of-N/.", Required = true };
        var shard = new Option<string?>("--shard") { Description = $"Validate only shard I of N (0-based): the drives k with k mod N = I. Default: from " +
            $"{Shard.IndexVariable} and {Shard.CountVariable}, as in a Kubernetes Indexed Job; else all drives.", HelpName = "I/N" };
        var worst = new Option<int>("--worst") { Description = "Frames of least agreement to picture (per drive kept, in total shown).", DefaultValueFactory = _ => 8 };
        var resume = new Option<bool>("--resume") { Description = "Keep drives already in OUT from a run with the same models; play the rest." };
        var command = new Command("validate", "Fleet validation: replay many recorded drives through a new model and the deployed one on the same frames — " +
            "mask agreement (overall, per class, per drive), class-share drift, latency, mIoU where labels exist, the worst frames side by side — " +
            "into a Markdown report with plots and a JSON; the exit code gates on --min-agreement, --max-latency-ratio and --min-miou " +
            "(0 pass, 1 a drive could not be read, 2 usage, 4 a gate failed, 130 interrupted).")
        {
            drives, model, baseline, output, shard, worst, resume, MinAgreement, MaxLatencyRatio, MinMiou,
            SharedOptions.Providers, SharedOptions.Threads, SharedOptions.Resize, Merge(),
        };
        command.SetAction((parse, cancel) => Execute(() =>
        {
            using var factory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            var options = new ValidationOptions(parse.GetValue(drives)!, parse.GetValue(model)!, parse.GetValue(output)!)
            {
                BaselinePath = parse.GetValue(baseline),
                Shard = parse.GetValue(shard) is { } s ? Shard.Parse(s) : Shard.FromEnvironment(Environment.GetEnvironmentVariable) ?? Shard.Whole,
                Model = new ModelOptions
                {
                    Providers = SharedOptions.ProviderList(parse), Threads = parse.GetValue(SharedOptions.Threads), Resize = parse.GetValue(SharedOptions.Resize),
                },
                WorstFrames = parse.GetValue(worst),
                Resume = parse.GetValue(resume),
                Gates = Gates(parse),
            };
            // SIGINT and SIGTERM (a pod being evicted) finish the frame in flight; the drives done are reported and kept for --resume.
            using var stop = new StopSignals(cancel);
            var line = new ProgressLine(Console.Error);
            var outcome = new FleetValidator(options, factory.CreateLogger("validate")).Run(new Progress(line), stop.Token);
            line.End();
            return outcome;
        }));
        return command;
    }

    private static Command Merge()
    {
        var shards = new Argument<string[]>("shards") { Description = "The shards' folders (OUT/shard-I-of-N), or the folder holding them.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "Report folder for the whole validation.", Required = true };
        var command = new Command("merge", "The report of a sharded validation from all its shards' folders: the same totals one run over every drive gives; " +
            "the gates apply as in validate.") { shards, output, MinAgreement, MaxLatencyRatio, MinMiou };
        command.SetAction(parse => Execute(() => ValidationMerge.Run(parse.GetValue(shards)!, parse.GetValue(output)!, Gates(parse))));
        return command;
    }

    private static Task<int> Execute(Func<ValidationOutcome> run)
    {
        try
        {
            var outcome = run();
            Console.WriteLine(Summary(outcome));
            return Task.FromResult(outcome.ExitCode);
        }
        catch (Exception ex) when (CommandErrors.IsFixable(ex) || ex is InvalidOperationException)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"dannet-edge validate: {ex.Message.ReplaceLineEndings(" ")}");
            return Task.FromResult(ex is ArgumentException ? 2 : 1);
        }
    }

    /// <summary>"validate: FAIL — 3 drives, 412 frames; agreement 93.12 %; p50 84.1 ms vs 80.2 ms (×1.05); mIoU 41.20 %; gate min-agreement 0.95: 0.9312 FAIL → report.md".</summary>
    private static string Summary(ValidationOutcome outcome)
    {
        var r = outcome.Report;
        var totals = r["totals"]!;
        var latency = r["latency_ms"]!;
        string F(JsonNode? v, string format, double scale = 1) => v is null ? "–" : (scale * v.GetValue<double>()).ToString(format, CultureInfo.InvariantCulture);
        var parts = new List<string> { $"{totals["drives"]} drives, {totals["frames"]} frames" };
        if (totals["agreement"] is { } a) parts.Add($"agreement {F(a, "F2", 100)} %");
        parts.Add($"p50 {F(latency["new"]?["p50"], "F1")} ms" + (latency["baseline"] is { } b ? $" vs {F(b["p50"], "F1")} ms (×{F(latency["p50_ratio"], "F2")})" : ""));
        if (totals["miou"]!["new"] is { } m) parts.Add($"mIoU {F(m, "F2", 100)} % over {totals["labelled_frames"]} labelled frames");
        foreach (var g in r["gates"]!.AsArray())
            parts.Add($"{g!["gate"]} {g["threshold"]}: {g["value"]?.ToJsonString() ?? "–"} {(g["passed"]!.GetValue<bool>() ? "pass" : "FAIL")}");
        if (totals["drives_failed"]!.GetValue<int>() > 0) parts.Add($"{totals["drives_failed"]} drive(s) not read to the end");
        return $"validate: {r["verdict"]!.GetValue<string>().ToUpperInvariant()} — {string.Join("; ", parts)} → {Path.Combine(outcome.Folder, ValidationReport.MarkdownFile)}";
    }

    /// <summary>"drive 2/5 night-03: frame 120/300" on the progress line.</summary>
    private sealed class Progress(ProgressLine line) : IProgress<ValidationProgress>
    {
        public void Report(ValidationProgress p) =>
            line.Report($"drive {p.Number + 1}/{p.Drives} {p.Drive}: frame {p.Frame}{(p.Frames > 0 ? $"/{p.Frames}" : "")}", p.Frame, p.Frames);
    }
}
