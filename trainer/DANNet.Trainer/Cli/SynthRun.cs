using System.CommandLine;
using DANNet.Trainer.Data.SynthNight;
using Spectre.Console;

namespace DANNet.Trainer.Cli;

/// <summary>Generating SynthNight with a progress display, for <c>synth</c> and <c>demo</c> (neither calls the other).</summary>
internal static class SynthRun
{
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
