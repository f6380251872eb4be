using System.Text.Json;

namespace DANNet.Edge.Tests.Cli;

/// <summary>dannet-calibrate builds on the libraries (frame sources, inference, data sets), never on an executable, and does not pull libtorch in.</summary>
public sealed class CalibrationDependencyTests
{
    [Fact]
    public void Dannet_calibrate_depends_on_the_engine_libraries_and_on_no_executable_or_torch()
    {
        // The tool's own dependency manifest, as the build wrote it (copied next to the tests).
        using var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "dannet-calibrate.deps.json")));
        var target = deps.RootElement.GetProperty("targets").EnumerateObject().First().Value;
        var libraries = target.EnumerateObject().ToDictionary(p => p.Name.Split('/')[0], p => p.Value);
        var closure = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>(["dannet-calibrate"]);
        while (queue.Count > 0)
        {
            string name = queue.Dequeue();
            if (!closure.Add(name) || !libraries.TryGetValue(name, out var library)) continue;
            if (library.TryGetProperty("dependencies", out var dependencies))
                foreach (var d in dependencies.EnumerateObject()) queue.Enqueue(d.Name);
        }
        Assert.Contains("DANNet.Edge.Engine", closure);
        Assert.Contains("DANNet.Datasets", closure);
        Assert.DoesNotContain("dannet-edge", closure);
        Assert.DoesNotContain("dannet-train", closure);
        Assert.DoesNotContain("DANNet.Trainer.Engine", closure);
        Assert.DoesNotContain(closure, n => n.StartsWith("TorchSharp", StringComparison.Ordinal) || n.StartsWith("libtorch", StringComparison.Ordinal));
    }
}
