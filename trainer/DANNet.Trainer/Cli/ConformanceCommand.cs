using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DANNet.Model;
using DANNet.Model.IO;
using DANNet.Trainer.Diagnostics;

namespace DANNet.Trainer.Cli;

/// <summary>
/// <c>dannet-train conformance</c>: our DANNet training loop on the seeded nets and inputs of a reference trajectory
/// (<c>trainer/benchmarks/reference_trajectory.py</c>, the official code's loop), compared term by term, iteration by iteration.
/// </summary>
internal static class ConformanceCommand
{
    private static readonly Option<FileInfo> Reference = new("--reference", "-r")
    {
        Description = "The reference's trajectory (JSON written by trainer/benchmarks/reference_trajectory.py); its settings (iterations, size, batch, " +
            "float32/float64) are this run's.",
        Required = true,
    };
    private static readonly Option<double> AdversarialWeight = new("--adversarial-weight")
    {
        Description = "Weight of the generator's adversarial terms (the reference's 0.01). 0 is the control: the discriminators still train, the " +
            "generator gets no adversarial gradient — how far that run departs from the reference shows how much the comparison sees of the term.",
        DefaultValueFactory = _ => 0.01,
    };
    private static readonly Option<DirectoryInfo?> Init = new("--init")
    {
        Description = "The settled start the reference's run read with --init (segmentation.pth, light.pth, day.pth, night.pth; their hashes " +
            "must be the ones the trajectory recorded). Required when the trajectory has one.",
    };
    private static readonly Option<FileInfo?> Out = new("--out", "-o") { Description = "Write our trajectory here (same JSON shape as the reference's)." };
    private static readonly Option<FileInfo?> Compare = new("--compare")
    {
        Description = "Do not run: compare this trajectory (an earlier --out, or another run of the script) with --reference — e.g. our run on one " +
            "thread against our run on two, the spread float rounding alone gives.",
    };

    public static Command Create()
    {
        var command = new Command("conformance", "Run our DANNet iteration (losses, pseudo labels, discriminators, optimisers, schedule) on the " +
            "PSPNet-ResNet-101 + LightNet + discriminators of a reference trajectory (seeded, or a settled start with --init) and report how far each " +
            "loss term departs from it, and the window statistics that stay comparable after rounding has parted the runs.")
        {
            Reference, AdversarialWeight, Init, Out, Compare,
        };
        command.SetAction(parse => CommandErrors.Run(Console.Error, () =>
        {
            var file = parse.GetValue(Reference)!;
            if (!file.Exists) throw new ArgumentException($"--reference '{file.FullName}' does not exist: make it with trainer/benchmarks/reference_trajectory.py.");
            JsonObjectOrError("--reference", file, out var reference);
            if (parse.GetValue(Compare) is { } compared)
            {
                if (!compared.Exists) throw new ArgumentException($"--compare '{compared.FullName}' does not exist.");
                JsonObjectOrError("--compare", compared, out var other);
                long n = reference["iterations"]?.AsArray().Count ?? 0;
                Console.WriteLine($"{compared.Name} against {file.Name}: {n} iterations");
                Print(ReferenceTrajectory.Compare(reference, other), ReferenceTrajectory.CompareParameters(reference, other), n);
                PrintStatistics(reference, other, n, $"{file.Name} / {compared.Name}");
                return 0;
            }
            var options = ReferenceTrajectory.SettingsOf(reference, file.FullName) with { AdversarialWeight = parse.GetValue(AdversarialWeight) };
            var init = parse.GetValue(Init);
            if (options.InitHashes is not null && init is null)
                throw new ArgumentException($"--reference '{file.FullName}' started from a settled state (settings.init): pass that folder with --init.");
            if (options.InitHashes is null && init is not null)
                throw new ArgumentException($"--init '{init.FullName}': the reference's run started from the seeded weights, not from a folder; drop --init.");
            if (init is { Exists: false })
                throw new ArgumentException($"--init '{init.FullName}' does not exist.");
            options = options with { Init = init?.FullName };
            Console.WriteLine($"our loop on {options.Iterations} iterations, {options.Batch}x3x{options.Size}x{options.Size}, " +
                $"{options.DType.ToString().ToLowerInvariant()}, adversarial weight {options.AdversarialWeight.ToString(CultureInfo.InvariantCulture)}" +
                (options.Init is null ? ", seeded start" : $", settled start {options.Init}"));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var ours = ReferenceTrajectory.Run(options, (done, terms) =>
            {
                if (done % 10 == 0 || done == options.Iterations)
                    Console.WriteLine($"it {done}/{options.Iterations}  " + string.Join("  ", terms.Select(t => $"{t.Key} {t.Value:F5}")) +
                        $"  ({clock.Elapsed.TotalSeconds:F0} s)");
            });
            if (parse.GetValue(Out) is { } outFile)
                AtomicFile.WriteAllText(outFile.FullName, ours.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Print(ReferenceTrajectory.Compare(reference, ours), ReferenceTrajectory.CompareParameters(reference, ours), options.Iterations);
            PrintStatistics(reference, ours, options.Iterations);
            return 0;
        }));
        return command;
    }

    private static void JsonObjectOrError(string option, FileInfo file, out System.Text.Json.Nodes.JsonObject trajectory)
    {
        try
        {
            trajectory = ReferenceTrajectory.Read(file.FullName);
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"{option} '{file.FullName}' is not JSON ({ex.Message.Split('\n')[0]}): make it again.");
        }
    }

    /// <summary>What stays comparable once the runs have parted: the terms' window means and the adversarial gradient's size.</summary>
    private static void PrintStatistics(System.Text.Json.Nodes.JsonObject reference, System.Text.Json.Nodes.JsonObject ours, long iterations,
        string names = "reference / ours")
    {
        var windows = ReferenceTrajectory.Windows(iterations);
        string header = $"| {string.Join(" | ", windows.Select(w => $"it {w.From}-{w.To}"))} |";
        string rule = $"|---|{string.Concat(windows.Select(_ => "---|"))}";
        static string F(double v) => double.IsNaN(v) ? "—" : v.ToString("G4", CultureInfo.InvariantCulture);
        Console.WriteLine();
        Console.WriteLine($"mean of each loss term per window, {names}:");
        Console.WriteLine("| term " + header);
        Console.WriteLine(rule);
        // Paired by name, as Compare pairs the terms: two files need not list them in the same order.
        var theirs = ReferenceTrajectory.WindowMeans(ours).ToDictionary(m => m.Term, m => m.PerWindow);
        foreach (var (term, r) in ReferenceTrajectory.WindowMeans(reference))
        {
            var o = theirs.GetValueOrDefault(term) ?? throw new InvalidDataException($"{names}: the second trajectory has no term '{term}'");
            Console.WriteLine($"| {term} | {string.Join(" | ", r.Zip(o, (a, b) => $"{F(a)} / {F(b)}"))} |");
        }
        var rg = ReferenceTrajectory.GradientMedians(reference);
        if (rg.All(g => double.IsNaN(g.Norm))) return;
        var og = ReferenceTrajectory.GradientMedians(ours);
        Console.WriteLine();
        Console.WriteLine($"adversarial gradient on the generator (median over the window's probes), {names}:");
        Console.WriteLine("| " + header);
        Console.WriteLine(rule);
        Console.WriteLine($"| norm | {string.Join(" | ", rg.Zip(og, (a, b) => $"{F(a.Norm)} / {F(b.Norm)}"))} |");
        Console.WriteLine($"| share of the generator gradient | {string.Join(" | ", rg.Zip(og, (a, b) => $"{F(100 * a.Share)} % / {F(100 * b.Share)} %"))} |");
    }

    private static void Print(List<ReferenceTrajectory.TermDifference> terms, List<(string Net, double Sum, double SumSq)> parameters, long iterations)
    {
        var windows = ReferenceTrajectory.Windows(iterations);
        Console.WriteLine();
        Console.WriteLine("largest relative difference |ours - reference| / |reference| per loss term:");
        Console.WriteLine($"| term | {string.Join(" | ", windows.Select(w => $"it {w.From}-{w.To}"))} | last |");
        Console.WriteLine($"|---|{string.Concat(windows.Select(_ => "---|"))}---|");
        foreach (var t in terms)
            Console.WriteLine($"| {t.Term} | {string.Join(" | ", t.PerWindow.Select(v => v.ToString("E1", CultureInfo.InvariantCulture)))} | " +
                $"{t.Last.ToString("E1", CultureInfo.InvariantCulture)} |");
        Console.WriteLine();
        Console.WriteLine("parameters at the last snapshot, relative difference of the sum and of the sum of squares:");
        foreach (var (net, sum, sumsq) in parameters)
            Console.WriteLine($"  {net,-20} sum {sum.ToString("E1", CultureInfo.InvariantCulture)}   sum of squares {sumsq.ToString("E1", CultureInfo.InvariantCulture)}");
    }
}
