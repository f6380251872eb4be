using System.Globalization;
using OpenCvSharp;

namespace DANNet.Trainer.Training;

/// <summary>
/// Several training runs on one picture (<c>dannet-train curves</c>): night val mIoU over iterations, then one panel per chosen
/// loss term, one line per run. A run that continues another (an adaptation run started from a source-only checkpoint) is drawn
/// from its starting iteration (<see cref="Run.Offset"/>), so all runs share one iteration axis.
/// </summary>
public static class RunComparison
{
    /// <summary>A run as named on the command line: its label, its run folder and the iteration its iteration 0 stands for.</summary>
    public sealed record Run(string Name, string Folder, long Offset)
    {
        /// <summary><c>name=folder</c> or <c>name=folder@offset</c> (offset: the iteration this run started from, e.g. the pretraining's).</summary>
        public static Run Parse(string spec)
        {
            int eq = spec.IndexOf('=');
            if (eq <= 0 || eq == spec.Length - 1)
                throw new ArgumentException($"'{spec}': expected name=run-folder or name=run-folder@first-iteration (e.g. DANNet=runs/dannet@1200).");
            string name = spec[..eq], folder = spec[(eq + 1)..];
            long offset = 0;
            int at = folder.LastIndexOf('@');
            if (at >= 0)
            {
                string tail = folder[(at + 1)..];
                if (!long.TryParse(tail, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
                    throw new ArgumentException($"'{spec}': '@{tail}' is not an iteration; write name=run-folder@N with N ≥ 0 (the iteration the run started from).");
                folder = folder[..at];
            }
            return new Run(name, folder, offset);
        }

        public string MetricsPath => System.IO.Path.Combine(Folder, DannetTrainer.MetricsFile);
    }

    public sealed record Panel(string Title, IReadOnlyDictionary<string, List<(long X, double Y)>> Series);

    /// <summary>
    /// The panels: night val mIoU in percent (every evaluation the runs logged), then each of <paramref name="terms"/> averaged
    /// over <paramref name="smooth"/> logged points, each run's series under its name. Fails naming the run whose metrics are
    /// missing or damaged, or the term no run logged (with the terms that were).
    /// </summary>
    public static IReadOnlyList<Panel> Panels(IReadOnlyList<Run> runs, IReadOnlyList<string> terms, int smooth)
    {
        if (runs.Count == 0) throw new ArgumentException("Name at least one run: name=run-folder[@first-iteration].");
        if (smooth < 1) throw new ArgumentException($"--smooth {smooth}: the moving average needs at least 1 point.");
        var duplicate = runs.GroupBy(r => r.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Run name '{duplicate.Key}' is given twice: each line needs its own name.");

        var read = runs.Select(r =>
        {
            if (!File.Exists(r.MetricsPath))
                throw new ArgumentException($"Run '{r.Name}': '{r.MetricsPath}' does not exist — name a run folder written by dannet-train train.");
            var (t, m) = new MetricsLog(r.MetricsPath).Read();
            return (Run: r, Terms: t, MeanIoU: m);
        }).ToList();

        var miou = new Dictionary<string, List<(long, double)>>();
        foreach (var (run, _, m) in read)
            if (m.Count > 0) miou[run.Name] = [.. m.Select(p => (p.Item1 + run.Offset, 100 * p.Item2))];
        var panels = new List<Panel> { new("night val mIoU (%)", miou) };

        foreach (string term in terms)
        {
            var series = new Dictionary<string, List<(long, double)>>();
            foreach (var (run, t, _) in read)
                if (t.TryGetValue(term, out var s))
                    series[run.Name] = CurvePlot.Smooth([.. s.Select(p => (p.Item1 + run.Offset, p.Item2))], smooth);
            if (series.Count == 0)
            {
                var logged = read.SelectMany(r => r.Terms.Keys).Distinct().Order(StringComparer.Ordinal);
                throw new ArgumentException($"--terms: no run logged '{term}'; the runs logged: {string.Join(", ", logged)}.");
            }
            panels.Add(new Panel(smooth > 1 ? $"{term} (moving average of {smooth} logged points)" : term, series));
        }
        return panels;
    }

    /// <summary>The panels drawn one under another (<see cref="CurvePlot"/>) on one iteration axis, each run in its own colour in every panel.</summary>
    public static Mat Draw(IReadOnlyList<Run> runs, IReadOnlyList<Panel> panels) =>
        CurvePlot.Draw([.. panels.Select(p => (p.Title, p.Series))], panelHeight: 280, sharedIterations: true, colourOrder: [.. runs.Select(r => r.Name)]);
}
