using System.CommandLine;
using DANNet.Model;
using DANNet.Model.IO;
using DANNet.Trainer.Training;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train curves</c>: several runs' night val mIoU and loss terms over iterations, on one picture.</summary>
internal static class CurvesCommand
{
    public static readonly Argument<string[]> Runs = new("runs")
    {
        Description = "name=run-folder, or name=run-folder@N for a run that started from iteration N of another (an adaptation run " +
            "initialised from a source-only checkpoint), one line per run in each panel. A single run-folder alone (no name=) draws " +
            "that run's own picture, as training does at its end: every loss term, the discriminators' losses, night val mIoU.",
        Arity = ArgumentArity.OneOrMore,
    };
    public static readonly Option<FileInfo> Out = new("--out", "-o") { Description = "The PNG to write (replaced atomically).", Required = true };
    public static readonly Option<string[]> Terms = new("--terms")
    {
        Description = "Loss terms to draw, one panel each, after the night val mIoU panel (comma-separated or repeated). The default shows " +
            "what the adversarial term does: the static loss, the generator's night adversarial term and the two discriminators' losses.",
        DefaultValueFactory = _ => ["static", "adv_night", "d_day", "d_night"],
    };
    public static readonly Option<int> Smooth = new("--smooth") { Description = "Moving average over this many logged points (1: raw).", DefaultValueFactory = _ => 10 };

    public static Command Create()
    {
        var command = new Command("curves", "Draw several training runs on one picture: night val mIoU over iterations, then one panel per loss term, " +
            "one line per run.")
        {
            Runs, Out, Terms, Smooth,
        };
        command.SetAction(parse => CommandErrors.Run(Console.Error, () =>
        {
            string written = Write(parse.GetValue(Runs)!, parse.GetValue(Out)!.FullName,
                [.. parse.GetValue(Terms)!.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
                parse.GetValue(Smooth));
            Console.WriteLine(written);
            return 0;
        }));
        return command;
    }

    /// <summary>Reads the runs, draws the panels and writes the PNG; returns a line saying what was drawn.</summary>
    internal static string Write(IReadOnlyList<string> runSpecs, string png, IReadOnlyList<string> terms, int smooth)
    {
        if (runSpecs is [var single] && !single.Contains('=', StringComparison.Ordinal))
        {
            int drawn = DannetTrainer.WriteCurves(single, png);
            return $"{png}: the run {single}, every loss term, {drawn} night val evaluation{(drawn == 1 ? "" : "s")}";
        }
        var runs = runSpecs.Select(RunComparison.Run.Parse).ToList();
        var panels = RunComparison.Panels(runs, terms, smooth);
        using var image = RunComparison.Draw(runs, panels);
        ImageFiles.WritePng(png, image);
        int evaluations = panels[0].Series.Values.Sum(s => s.Count);
        return $"{png}: {runs.Count} run{(runs.Count == 1 ? "" : "s")}, {evaluations} night val evaluation{(evaluations == 1 ? "" : "s")}, " +
            $"panels: mIoU, {string.Join(", ", terms)}";
    }
}
