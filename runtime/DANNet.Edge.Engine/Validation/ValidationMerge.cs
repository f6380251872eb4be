using System.Text.Json.Nodes;
using DANNet.Model.IO;

namespace DANNet.Edge.Validation;

/// <summary>
/// <c>dannet-edge validate merge</c>: the report of a whole validation from its shards' folders. The shards must be of one run —
/// the same models, classes and drive list — and all of them must be there, each once, each with every drive it owns; then the
/// drives' results (and their worst-frame pictures) are gathered in the list's order and reported as one run would be.
/// </summary>
public static class ValidationMerge
{
    public static ValidationOutcome Run(IReadOnlyList<string> folders, string output, ValidationGates gates)
    {
        gates.Check();
        var shards = folders.SelectMany(Shards).ToList();
        if (shards.Count == 0) throw new ArgumentException("validate merge: give the shards' folders (or the folder holding shard-*-of-*).");
        var first = shards[0];
        int count = first.Run["shard"]!["count"]!.GetValue<int>();
        foreach (var s in shards)
            foreach (var key in new[] { "format", "models", "classes", "drives", "worst_frames" })
                if (s.Run[key]?.ToJsonString() != first.Run[key]?.ToJsonString())
                    throw new ArgumentException($"'{s.Folder}' is not a shard of the same validation as '{first.Folder}': its {key} differ{(key == "models" ? " (other model files)" : "")}.");
        var byIndex = new Dictionary<int, (string Folder, JsonObject Run)>();
        foreach (var s in shards)
        {
            int index = s.Run["shard"]!["index"]!.GetValue<int>(), of = s.Run["shard"]!["count"]!.GetValue<int>();
            if (of != count) throw new ArgumentException($"'{s.Folder}' is shard {index}/{of}, '{first.Folder}' one of {count}: give the shards of one split.");
            if (!byIndex.TryAdd(index, s)) throw new ArgumentException($"Shard {index}/{count} is given twice ('{byIndex[index].Folder}' and '{s.Folder}').");
        }
        var missing = Enumerable.Range(0, count).Where(i => !byIndex.ContainsKey(i)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"Shard(s) {string.Join(", ", missing.Select(i => $"{i}/{count}"))} missing: merge needs all {count} shards' folders.");
        var drives = first.Run["drives"]!.AsArray().Select(d => d!.GetValue<string>()).ToList();
        var results = new List<DriveResult>();
        Directory.CreateDirectory(Path.Combine(output, FleetValidator.DrivesFolder));
        Directory.CreateDirectory(Path.Combine(output, FleetValidator.WorstFolder));
        for (int k = 0; k < drives.Count; k++)
        {
            var (folder, _) = byIndex[k % count];
            string path = Path.Combine(folder, FleetValidator.DrivesFolder, drives[k] + ".json");
            if (!File.Exists(path))
                throw new ArgumentException($"Shard {k % count}/{count} ('{folder}') has no result for drive '{drives[k]}' (was it interrupted? run it again with --resume).");
            var result = DriveResult.Read(path);
            foreach (var w in result.Worst)
                AtomicFile.WriteAllBytes(Path.Combine(output, w.Image), File.ReadAllBytes(Path.Combine(folder, w.Image)));
            result.Write(Path.Combine(output, FleetValidator.DrivesFolder, drives[k] + ".json"));
            results.Add(result);
        }
        var run = (JsonObject)first.Run.DeepClone();
        run["shard"] = new JsonObject { ["index"] = 0, ["count"] = 1, ["merged_from"] = count };
        AtomicFile.WriteAllText(Path.Combine(output, FleetValidator.RunFile), run.ToJsonString(ValidationReport.Indented));
        var report = ValidationReport.Write(output, run, results, gates, complete: true);
        return new ValidationOutcome(output, report, ValidationReport.ExitCode(report));
    }

    private static IEnumerable<(string Folder, JsonObject Run)> Shards(string folder)
    {
        if (!Directory.Exists(folder)) throw new ArgumentException($"validate merge: '{folder}' is not a folder.");
        string runFile = Path.Combine(folder, FleetValidator.RunFile);
        var candidates = File.Exists(runFile) ? [folder] : Directory.EnumerateDirectories(folder, "shard-*-of-*").Order(StringComparer.Ordinal).ToList();
        if (candidates.Count == 0) throw new ArgumentException($"validate merge: '{folder}' holds neither a shard's {FleetValidator.RunFile} nor shard-*-of-* folders.");
        foreach (var c in candidates)
        {
            string file = Path.Combine(c, FleetValidator.RunFile);
            JsonObject? run;
            try
            {
                run = JsonNode.Parse(File.ReadAllText(file)) as JsonObject;
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new InvalidDataException($"'{file}' is not a validation's run description ({ex.Message}).", ex);
            }
            if (run?["format"]?.GetValue<string>() != ValidationReport.Format || run["shard"]?["count"] is null)
                throw new InvalidDataException($"'{file}' is not a validation's run description (format {ValidationReport.Format}).");
            yield return (c, run);
        }
    }
}
