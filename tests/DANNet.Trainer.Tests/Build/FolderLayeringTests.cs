using System.Text.RegularExpressions;

namespace DANNet.Trainer.Tests.Build;

/// <summary>
/// The engines' folders form layers: a folder may use the ones below it, never one that uses it
/// back (style.md: "folders without back-edges"). Read from the sources: every reference to a
/// sibling namespace (a using or a qualified name) is an edge; a cycle fails with its path.
/// </summary>
public sealed class FolderLayeringTests
{
    private static readonly string RepoRoot = RepositoryRoot.Folder;

    [Theory]
    [InlineData("trainer/DANNet.Trainer.Engine", "DANNet.Trainer")]
    [InlineData("trainer/DANNet.Datasets", "DANNet.Trainer")]
    [InlineData("runtime/DANNet.Edge.Engine", "DANNet.Edge")]
    [InlineData("runtime/DANNet.Model", "DANNet.Model")]
    public void Engine_folders_have_no_cycles(string project, string rootNamespace)
    {
        var graph = Edges(Path.Combine(RepoRoot, project), rootNamespace);
        Assert.True(graph.Count >= 2, $"expected the project's folders, found {string.Join(", ", graph.Keys)}");
        var cycle = FindCycle(graph);
        Assert.True(cycle is null, $"{project}: folders depend on each other in a cycle: {string.Join(" → ", cycle ?? [])}");
    }

    [Fact]
    public void A_cycle_is_found_and_named()
    {
        var graph = new Dictionary<string, HashSet<string>>
        {
            ["Models"] = ["Onnx"], ["Onnx"] = ["Export"], ["Export"] = ["Models"], ["IO"] = [],
        };
        var cycle = FindCycle(graph);
        Assert.NotNull(cycle);
        Assert.Equal(cycle[0], cycle[^1]);
        Assert.Equal(4, cycle.Count);
        Assert.Null(FindCycle(new Dictionary<string, HashSet<string>> { ["A"] = ["B"], ["B"] = [], ["C"] = ["A", "B"] }));
    }

    /// <summary>Top-level folder → the sibling folders its code names.</summary>
    private static Dictionary<string, HashSet<string>> Edges(string projectDir, string rootNamespace)
    {
        var folders = Directory.GetDirectories(projectDir).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).Cast<string>().ToHashSet();
        var reference = new Regex(Regex.Escape(rootNamespace) + @"\.([A-Za-z]+)\b");
        var graph = folders.ToDictionary(f => f, _ => new HashSet<string>());
        foreach (var folder in folders)
            foreach (var file in Directory.EnumerateFiles(Path.Combine(projectDir, folder), "*.cs", SearchOption.AllDirectories))
                foreach (Match m in reference.Matches(File.ReadAllText(file)))
                {
                    string target = m.Groups[1].Value;
                    if (target != folder && folders.Contains(target)) graph[folder].Add(target);
                }
        return graph;
    }

    /// <summary>A cycle as a path that starts and ends at the same folder, or null.</summary>
    internal static List<string>? FindCycle(IReadOnlyDictionary<string, HashSet<string>> graph)
    {
        var state = new Dictionary<string, int>(); // 1 on the stack, 2 done
        var stack = new List<string>();
        List<string>? Visit(string node)
        {
            state[node] = 1;
            stack.Add(node);
            foreach (var next in graph.TryGetValue(node, out var n) ? n.Order(StringComparer.Ordinal) : Enumerable.Empty<string>())
            {
                if (state.GetValueOrDefault(next) == 1) return [.. stack.Skip(stack.IndexOf(next)), next];
                if (state.GetValueOrDefault(next) == 0 && Visit(next) is { } found) return found;
            }
            stack.RemoveAt(stack.Count - 1);
            state[node] = 2;
            return null;
        }
        foreach (var node in graph.Keys.Order(StringComparer.Ordinal))
            if (state.GetValueOrDefault(node) == 0 && Visit(node) is { } cycle)
                return cycle;
        return null;
    }
}
