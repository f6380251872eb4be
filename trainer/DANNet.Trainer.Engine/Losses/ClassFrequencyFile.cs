using DANNet.Model.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Data;
using DANNet.Trainer.IO;

namespace DANNet.Trainer.Losses;

/// <summary>Class frequencies as written by <c>dannet-train stats</c>: <c>{"classes": [...], "frequencies": [...], ...}</c>.</summary>
public static class ClassFrequencyFile
{
    public static void Write(string path, ClassPixelCounts counts, string source)
    {
        var json = new JsonObject
        {
            ["source"] = source,
            ["classes"] = new JsonArray(CityscapesClasses.Names.Select(n => (JsonNode?)n).ToArray()),
            ["pixels"] = new JsonArray(counts.Counts.Select(c => (JsonNode?)c).ToArray()),
            ["ignoredPixels"] = counts.Ignored,
            ["frequencies"] = new JsonArray(Enumerable.Range(0, CityscapesClasses.Count).Select(c => (JsonNode?)counts.Fraction(c)).ToArray()),
        };
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public static double[] Read(string path)
    {
        if (!File.Exists(path)) throw new ArgumentException($"Class frequency file '{path}' does not exist; make it with 'dannet-train stats'.");
        try
        {
            var f = JsonNode.Parse(File.ReadAllText(path))?["frequencies"]?.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            if (f is null || f.Length != CityscapesClasses.Count)
                throw new ArgumentException($"Class frequency file '{path}' needs a 'frequencies' array of {CityscapesClasses.Count} numbers.");
            return f;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            throw new ArgumentException($"Class frequency file '{path}' is not valid: {ex.Message}");
        }
    }
}
