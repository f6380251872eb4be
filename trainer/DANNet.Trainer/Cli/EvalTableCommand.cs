using DANNet.Model;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DANNet.Edge.Contracts;

namespace DANNet.Trainer.Cli;

/// <summary><c>dannet-train eval-table</c>: several evaluations (iou.json) side by side as a Markdown table.</summary>
internal static class EvalTableCommand
{
    public static readonly Argument<string[]> Runs = new("runs") { Description = "name=path/to/iou.json, one per row (in order).", Arity = ArgumentArity.OneOrMore };

    public static Command Create()
    {
        var command = new Command("eval-table", "Print per-class IoU and mIoU (percent) of several evaluations as one Markdown table.") { Runs };
        command.SetAction(parse => CommandErrors.Run(Console.Error, () =>
        {
            Console.Write(Table(parse.GetValue(Runs)!));
            return 0;
        }));
        return command;
    }

    internal static string Table(IEnumerable<string> runs)
    {
        var names = CityscapesClasses.Names;
        var sb = new StringBuilder("| run | " + string.Join(" | ", names) + " | **mIoU** |\n|---|" + string.Concat(Enumerable.Repeat("---|", names.Count + 1)) + "\n");
        foreach (var run in runs)
        {
            int eq = run.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"'{run}': expected name=path/to/iou.json.");
            string name = run[..eq], path = run[(eq + 1)..];
            if (!File.Exists(path)) throw new ArgumentException($"Evaluation '{path}' of run '{name}' does not exist.");
            var json = JsonNode.Parse(File.ReadAllText(path)) ?? throw new ArgumentException($"'{path}' is empty.");
            string Cell(JsonNode? v) => v is null ? "–" : (100 * v.GetValue<double>()).ToString("F1", CultureInfo.InvariantCulture);
            sb.Append("| ").Append(name).Append(" | ")
              .Append(string.Join(" | ", names.Select(n => Cell(json["iou"]?[n]))))
              .Append(" | **").Append(Cell(json["miou"])).Append("** |\n");
        }
        return sb.ToString();
    }
}
