using System.CommandLine;
using DANNet.Trainer.Data.SynthNight;
using Spectre.Console;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train synth</c>: generate SynthNight.</summary>
internal static class SynthCommand
{
    public static readonly Option<DirectoryInfo> Out = new("--out", "-o")
    {
        Description = "Output folder; it receives cityscapes/, dark_zurich/, video/, preview/ and synthnight.json.",
        Required = true,
    };

    public static readonly Option<SynthScale> Scale = new("--scale")
    {
        Description = "tiny: 256 px, seconds (tests); small: ~1000 px, 480 labelled + 480 pairs, minutes (benchmarks); full: Cityscapes and Dark Zurich sizes and counts, hours.",
        DefaultValueFactory = _ => SynthScale.Small,
        HelpName = "tiny|small|full",
    };

    public static readonly Option<ulong> Seed = new("--seed")
    {
        Description = "Random seed: the same seed, scale and generator version give the same bytes.",
        DefaultValueFactory = _ => 1UL,
    };

    public static readonly Option<int> Previews = new("--previews")
    {
        Description = "Number of preview sheets of each kind written to preview/.",
        DefaultValueFactory = _ => 4,
    };

    public static readonly Option<int> Jobs = new("--jobs", "-j")
    {
        Description = "Frames rendered in parallel (default: number of cores).",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static readonly Option<bool> PreviewsOnly = new("--previews-only")
    {
        Description = "Write only the preview pictures, straight into --out (fast; used for the README pictures).",
    };

    public static Command Create()
    {
        var command = new Command("synth", "Generate SynthNight: procedural day/night street scenes in the Cityscapes and Dark Zurich layouts, with " +
            "exact labels, a night drive video and preview pictures.")
        {
            Out, Scale, Seed, Previews, Jobs, PreviewsOnly,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CliErrors.Run(Console.Error, () =>
        {
            var options = new SynthOptions(parse.GetValue(Out)!.FullName, parse.GetValue(Scale), parse.GetValue(Seed), parse.GetValue(Previews), parse.GetValue(Jobs));
            if (parse.GetValue(PreviewsOnly)) WritePreviews(options, AnsiConsole.Console);
            else Generate(options, AnsiConsole.Console, cancel);
            return 0;
        })));
        return command;
    }

    internal sealed record SynthOptions(string OutDir, SynthScale Scale, ulong Seed, int Previews, int Jobs)
    {
        public void Validate()
        {
            if (Previews < 0) throw new ArgumentException($"--previews must be 0 or more (got {Previews}).");
            if (Jobs < 1) throw new ArgumentException($"--jobs must be at least 1 (got {Jobs}).");
        }
    }

    internal static void WritePreviews(SynthOptions options, IAnsiConsole console)
    {
        options.Validate();
        new SynthNightGenerator(options.Scale, options.Seed) { PreviewCount = options.Previews }.WritePreviews(options.OutDir);
        console.MarkupLineInterpolated($"SynthNight previews ({options.Scale.ToString().ToLowerInvariant()}, seed {options.Seed}) written to [bold]{options.OutDir}[/]");
    }

    /// <summary>Generates with a progress display per stage, then prints where everything went.</summary>
    internal static void Generate(SynthOptions options, IAnsiConsole console, CancellationToken cancel)
    {
        options.Validate();
        var generator = new SynthNightGenerator(options.Scale, options.Seed) { Parallelism = options.Jobs, PreviewCount = options.Previews };
        var started = DateTime.UtcNow;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var gate = new object();
                generator.Generate(options.OutDir, new Diagnostics.InlineProgress<SynthProgress>(p =>
                {
                    lock (gate)
                    {
                        if (!tasks.TryGetValue(p.Stage, out var task))
                            tasks[p.Stage] = task = ctx.AddTask(p.Stage, maxValue: Math.Max(1, p.Total));
                        task.Value = p.Done;
                    }
                }), cancel);
            });
        double seconds = (DateTime.UtcNow - started).TotalSeconds;
        string scale = options.Scale.ToString().ToLowerInvariant();
        console.MarkupLineInterpolated($"SynthNight ({scale}, seed {options.Seed}) written to [bold]{options.OutDir}[/] in {seconds:F1} s");
        console.MarkupLineInterpolated($"  pictures: {Path.Combine(options.OutDir, "preview")}");
    }
}
