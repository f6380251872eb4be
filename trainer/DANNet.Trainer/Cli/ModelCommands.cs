using DANNet.Model;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DANNet.Trainer.Benchmarks;
using DANNet.Trainer.Models;
using Spectre.Console;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train arch-info</c> and <c>dannet-train bench-step</c>: what the architectures cost.</summary>
internal static class ModelCommands
{
    public static readonly Option<string[]> Arch = new("--arch")
    {
        Description = "Architecture(s): <head>-r<depth>[-w<width>][-l<light channels>], head pspnet|deeplabv2|refinenet|deeplabv2aspp4, depth 18|34|50|101 (e.g. pspnet-r101, pspnet-r18-w0.5-l16).",
        AllowMultipleArgumentsPerToken = true,
    };

    public static readonly Option<int> Height = new("--height") { Description = "Input height in pixels.", DefaultValueFactory = _ => 512 };
    public static readonly Option<int> Width = new("--width") { Description = "Input width in pixels.", DefaultValueFactory = _ => 1024 };
    public static readonly Option<int> Batch = new("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 1 };
    public static readonly Option<int> Warmup = new("--warmup") { Description = "Untimed iterations first.", DefaultValueFactory = _ => 2 };
    public static readonly Option<int> Iterations = new("--iterations") { Description = "Timed iterations (the median is reported).", DefaultValueFactory = _ => 5 };
    public static readonly Option<int> Threads = new("--threads") { Description = "Torch intra-op threads (default: libtorch's choice).", DefaultValueFactory = _ => 0 };
    public static readonly Option<bool> Json = new("--json") { Description = "Also print one JSON object per architecture." };

    public static Command ArchInfo()
    {
        var command = new Command("arch-info", "Parameter count and multiply-adds of the generator (LightNet + segmentation net) per architecture, measured on a real forward pass.")
        {
            Arch, Height, Width,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CommandErrors.Run(Console.Error, () =>
        {
            var archs = Architectures(parse.GetValue(Arch));
            var table = new Table().AddColumns("architecture", "LightNet params", "seg. params", "LightNet GMACs", "seg. GMACs", "total GMACs");
            table.Columns[0].NoWrap();
            table.Title = new TableTitle($"DANNet generators at {parse.GetValue(Height)}x{parse.GetValue(Width)}");
            foreach (var a in archs)
            {
                cancel.ThrowIfCancellationRequested();
                var (light, seg) = Measure(a, parse.GetValue(Height), parse.GetValue(Width));
                table.AddRow(a.ToString(), Millions(light.Parameters), Millions(seg.Parameters), Giga(light.MultiplyAdds), Giga(seg.MultiplyAdds), Giga(light.MultiplyAdds + seg.MultiplyAdds));
            }
            AnsiConsole.Write(table);
            return 0;
        })));
        return command;
    }

    internal static (ModelComplexity Light, ModelComplexity Segmentation) Measure(ArchitectureSpec a, int height, int width)
    {
        using var light = a.CreateLightNet();
        using var seg = a.CreateSegmentationNet();
        return (ModelComplexity.Measure(light, height, width), ModelComplexity.Measure(seg, height, width));
    }

    public static Command BenchStep()
    {
        var command = new Command("bench-step", "Time the generator's forward pass and a full training step (forward, backward, SGD) on this CPU, and report peak memory. Medians after warm-up.")
        {
            Arch, Height, Width, Batch, Warmup, Iterations, Threads, Json,
        };
        command.SetAction((parse, cancel) => Task.FromResult(CommandErrors.Run(Console.Error, () =>
        {
            var archs = Architectures(parse.GetValue(Arch));
            var table = new Table().AddColumns("architecture", "input", "threads", "forward ms (median)", "train step ms (median)", "peak RSS MB", "RSS growth over timed steps MB");
            table.Columns[0].NoWrap();
            foreach (var a in archs)
            {
                cancel.ThrowIfCancellationRequested();
                var options = new StepBenchmarkOptions(a, parse.GetValue(Height), parse.GetValue(Width), parse.GetValue(Batch), parse.GetValue(Warmup),
                    parse.GetValue(Iterations), parse.GetValue(Threads));
                var r = StepBenchmark.Run(options, line => Console.Error.WriteLine($"  {a}: {line}"));
                table.AddRow(r.Architecture, $"{r.Batch}x3x{r.Height}x{r.Width}", r.Threads.ToString(CultureInfo.InvariantCulture),
                    r.ForwardMs.ToString("F0", CultureInfo.InvariantCulture), r.TrainStepMs.ToString("F0", CultureInfo.InvariantCulture),
                    (r.PeakWorkingSetBytes / 1048576.0).ToString("F0", CultureInfo.InvariantCulture),
                    (r.TrainStepRssGrowthBytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture));
                if (parse.GetValue(Json)) Console.WriteLine(JsonSerializer.Serialize(r));
            }
            AnsiConsole.Write(table);
            return 0;
        })));
        return command;
    }

    private static List<ArchitectureSpec> Architectures(string[]? names) =>
        names is null || names.Length == 0 ? [.. ArchitectureSpec.Catalog] : names.Select(ArchitectureSpec.Parse).ToList();

    private static string Millions(long n) => (n / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " M";
    private static string Giga(long n) => (n / 1e9).ToString("F1", CultureInfo.InvariantCulture);
}
