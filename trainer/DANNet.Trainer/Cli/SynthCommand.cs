using DANNet.Model;
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
            Out, Scale, SharedOptions.Seed, Previews, Jobs, PreviewsOnly,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CommandErrors.Run(Console.Error, () =>
        {
            var options = new SynthRun.SynthOptions(parse.GetValue(Out)!.FullName, parse.GetValue(Scale), parse.GetValue(SharedOptions.Seed), parse.GetValue(Previews), parse.GetValue(Jobs));
            if (parse.GetValue(PreviewsOnly)) SynthRun.WritePreviews(options, AnsiConsole.Console);
            else SynthRun.Generate(options, AnsiConsole.Console, cancel);
            return 0;
        })));
        return command;
    }
}
