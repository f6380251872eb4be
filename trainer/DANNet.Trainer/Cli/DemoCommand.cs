using DANNet.Model;
using System.CommandLine;
using DANNet.Trainer.Data;
using DANNet.Trainer.Data.SynthNight;
using DANNet.Edge.Contracts;
using Spectre.Console;

namespace DANNet.Trainer.Cli;

/// <summary>
/// <c>dannet-train demo</c>: the main job on its embedded default until the edge daemon exists —
/// generate SynthNight, read it back with the Cityscapes and Dark Zurich loaders, and show what is in it.
/// </summary>
internal static class DemoCommand
{
    public static readonly Option<DirectoryInfo> Out = new("--out", "-o")
    {
        Description = "Where the demo data set goes.",
        DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("out", "demo", "synthnight")),
    };

    public static readonly Option<SynthScale> Scale = new("--scale")
    {
        Description = "SynthNight scale for the demo (tiny takes seconds, small minutes).",
        DefaultValueFactory = _ => SynthScale.Tiny,
        HelpName = "tiny|small|full",
    };

    public static Command Create()
    {
        var command = new Command("demo", "Generate a SynthNight set, read it back with the data set loaders and summarise it (labels per class, pairs, pictures).")
        {
            Out, Scale, SharedOptions.Seed,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CommandErrors.Run(Console.Error, () =>
        {
            Run(parse.GetValue(Out)!.FullName, parse.GetValue(Scale), parse.GetValue(SharedOptions.Seed), AnsiConsole.Console, cancel);
            return 0;
        })));
        return command;
    }

    internal static void Run(string outDir, SynthScale scale, ulong seed, IAnsiConsole console, CancellationToken cancel)
    {
        SynthRun.Generate(new SynthRun.SynthOptions(outDir, scale, seed, 4, Environment.ProcessorCount), console, cancel);

        var source = new CityscapesDataset(Path.Combine(outDir, SynthNightGenerator.CityscapesFolder), "train");
        var pairs = DarkZurichDataset.TrainPairs(Path.Combine(outDir, SynthNightGenerator.DarkZurichFolder));
        var val = DarkZurichDataset.LabelledNight(Path.Combine(outDir, SynthNightGenerator.DarkZurichFolder), "val");

        var sourceCounts = ClassPixelCounter.Count(source.Samples.Select(s => s.LabelPath), LabelFormat.CityscapesLabelIds);
        var nightCounts = ClassPixelCounter.Count(val.Samples.Select(s => s.LabelPath), LabelFormat.CityscapesLabelIds);
        var table = new Table().Title("SynthNight read back through the loaders: share of labelled pixels").AddColumns("class", "source day (train)", "night val");
        for (int c = 0; c < CityscapesClasses.Count; c++)
            table.AddRow(CityscapesClasses.All[c].Name, $"{sourceCounts.Fraction(c):P2}", $"{nightCounts.Fraction(c):P2}");
        table.AddRow("[grey]ignored (255)[/]", $"[grey]{sourceCounts.IgnoredFraction:P2}[/]", $"[grey]{nightCounts.IgnoredFraction:P2}[/]");
        console.Write(table);
        console.MarkupLineInterpolated($"source train: {source.Samples.Count} labelled images; target: {pairs.Pairs.Count} night/day pairs; night val: {val.Samples.Count} labelled images");
        console.MarkupLineInterpolated($"look at: {Path.Combine(outDir, "preview", "pair_00.png")}, {Path.Combine(outDir, "preview", "night_model.png")}");
        console.MarkupLineInterpolated($"night drive video: {Path.Combine(outDir, SynthNightGenerator.VideoPath)}");
    }
}
