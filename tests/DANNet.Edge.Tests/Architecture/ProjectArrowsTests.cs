using System.Text.Json;
using System.Xml.Linq;

namespace DANNet.Edge.Tests.Architecture;

/// <summary>
/// The layout as the README draws it, read from the project files and the build's dependency manifests: which project may reference
/// which, who may see internals, and what the model library's closure holds. A new arrow across the trainer/runtime line fails here.
/// </summary>
public sealed class ProjectArrowsTests
{
    /// <summary>A production project: its folder (relative, '/'), name, references (project names) and InternalsVisibleTo grants.</summary>
    public sealed record ProjectFile(string Folder, string Name, bool IsExe, IReadOnlyList<string> References, IReadOnlyList<string> Grants);

    /// <summary>The projects both sides may reference.</summary>
    private static readonly string[] Shared = ["DANNet.Edge.Contracts", "DANNet.Model"];

    /// <summary>Every rule the layout has, as one message per broken rule (empty: all kept).</summary>
    public static List<string> Violations(IReadOnlyList<ProjectFile> projects)
    {
        var problems = new List<string>();
        var byName = projects.ToDictionary(p => p.Name, StringComparer.Ordinal);
        string Tree(ProjectFile p) => p.Folder.Split('/')[0];
        foreach (var p in projects)
        {
            foreach (var r in p.References)
            {
                if (!byName.TryGetValue(r, out var target)) continue;
                if (target.IsExe) problems.Add($"{p.Name} references the executable {r}: put what it needs in a library");
                bool crosses = (Tree(p), Tree(target)) is ("runtime", "trainer") or ("trainer", "runtime");
                if (crosses && !Shared.Contains(r)) problems.Add($"{p.Name} ({Tree(p)}/) references {r} ({Tree(target)}/): only {string.Join(" and ", Shared)} cross the line");
            }
            foreach (var g in p.Grants)
                if (!g.EndsWith(".Tests", StringComparison.Ordinal)) problems.Add($"{p.Name} grants InternalsVisibleTo to {g}: production code uses public API");
        }
        void Exactly(string project, params string[] references)
        {
            if (byName.TryGetValue(project, out var p) && !p.References.Order(StringComparer.Ordinal).SequenceEqual(references.Order(StringComparer.Ordinal)))
                problems.Add($"{project} references {string.Join(", ", p.References)}; the layout has {string.Join(", ", references)}");
        }
        Exactly("DANNet.Model", "DANNet.Edge.Contracts");
        Exactly("DANNet.Edge.Contracts");
        Exactly("DANNet.Trainer.Engine", "DANNet.Datasets", "DANNet.Model");
        Exactly("DANNet.Edge.Engine", "DANNet.Edge.Contracts", "DANNet.Edge.SharedMemory", "DANNet.Model");
        Exactly("dannet-calibrate", "DANNet.Datasets", "DANNet.Model");
        return problems;
    }

    [Fact]
    public void The_project_files_keep_the_layout()
    {
        var projects = ReadProjects();
        Assert.Contains(projects, p => p.Name == "DANNet.Model");
        Assert.True(projects.Count >= 9, $"only {projects.Count} production projects found");
        Assert.Empty(Violations(projects));
    }

    [Fact]
    public void A_forbidden_arrow_or_grant_is_found()
    {
        var projects = ReadProjects().Select(p => p.Name switch
        {
            "DANNet.Edge.Engine" => p with { References = [.. p.References, "DANNet.Datasets"] },
            "DANNet.Datasets" => p with { Grants = [.. p.Grants, "dannet-calibrate"] },
            "DANNet.Model" => p with { References = [.. p.References, "dannet-edge"] },
            _ => p,
        }).ToList();
        var problems = Violations(projects);
        Assert.Contains(problems, m => m.StartsWith("DANNet.Edge.Engine (runtime/) references DANNet.Datasets (trainer/)", StringComparison.Ordinal));
        Assert.Contains(problems, m => m.StartsWith("DANNet.Datasets grants InternalsVisibleTo to dannet-calibrate", StringComparison.Ordinal));
        Assert.Contains(problems, m => m.StartsWith("DANNet.Model references the executable dannet-edge", StringComparison.Ordinal));
        Assert.Contains(problems, m => m.StartsWith("DANNet.Model references DANNet.Edge.Contracts, dannet-edge;", StringComparison.Ordinal));
    }

    [Fact]
    public void The_model_library_closure_has_no_torch_and_no_host()
    {
        // The daemon's manifest holds DANNet.Model with its whole closure as the build resolved it.
        var model = Closure("dannet-edge.deps.json", "DANNet.Model");
        Assert.Contains("DANNet.Edge.Contracts", model);
        Assert.Contains(model, n => n.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal));
        Assert.Contains("OpenCvSharp4", model);
        Assert.DoesNotContain(model, Forbidden);
        // The daemon links no data-set code (SynthNight), no trainer; the calibrator no daemon, no host, no torch.
        var daemon = Closure("dannet-edge.deps.json", "dannet-edge");
        Assert.DoesNotContain("DANNet.Datasets", daemon);
        Assert.Contains("Microsoft.Extensions.Hosting", daemon);
        var calibrate = Closure("dannet-calibrate.deps.json", "dannet-calibrate");
        Assert.Contains("DANNet.Model", calibrate);
        Assert.Contains("DANNet.Datasets", calibrate);
        Assert.DoesNotContain("DANNet.Edge.Engine", calibrate);
        Assert.DoesNotContain(calibrate, Forbidden);
    }

    private static bool Forbidden(string name) =>
        name.StartsWith("TorchSharp", StringComparison.Ordinal) || name.StartsWith("libtorch", StringComparison.Ordinal)
        || name.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal) || name is "System.Reactive" or "prometheus-net";

    /// <summary>Everything <paramref name="root"/> depends on, directly or not, in a build's dependency manifest.</summary>
    private static HashSet<string> Closure(string manifest, string root)
    {
        using var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, manifest)));
        var target = deps.RootElement.GetProperty("targets").EnumerateObject().First().Value;
        var libraries = target.EnumerateObject().ToDictionary(p => p.Name.Split('/')[0], p => p.Value.Clone());
        Assert.True(libraries.ContainsKey(root), $"{root} is not in {manifest}");
        var closure = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([root]);
        while (queue.Count > 0)
        {
            string name = queue.Dequeue();
            if (!closure.Add(name) || !libraries.TryGetValue(name, out var library)) continue;
            if (library.TryGetProperty("dependencies", out var dependencies))
                foreach (var d in dependencies.EnumerateObject()) queue.Enqueue(d.Name);
        }
        return closure;
    }

    /// <summary>Every production project file of the repository (tests and benchmarks excluded).</summary>
    private static List<ProjectFile> ReadProjects()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DANNet.Edge.sln"))) dir = dir.Parent;
        string root = dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (DANNet.Edge.sln).");
        var files = Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => f.Split('/')[0] is "runtime" or "trainer" or "calibration" && !f.Contains("/benchmarks/", StringComparison.Ordinal)
                        && !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
        var projects = new List<ProjectFile>();
        foreach (var file in files)
        {
            var xml = XDocument.Load(Path.Combine(root, file));
            string Property(string name) => xml.Descendants(name).Select(e => e.Value.Trim()).FirstOrDefault() ?? "";
            string name = Property("AssemblyName") is { Length: > 0 } a ? a : Path.GetFileNameWithoutExtension(file);
            var references = xml.Descendants("ProjectReference")
                .Select(e => Path.GetFileNameWithoutExtension(e.Attribute("Include")!.Value.Replace('\\', '/')))
                .ToList();
            var grants = xml.Descendants("InternalsVisibleTo").Select(e => e.Attribute("Include")!.Value).ToList();
            projects.Add(new ProjectFile(Path.GetDirectoryName(file)!.Replace('\\', '/'), name, Property("OutputType") == "Exe", references, grants));
        }
        // A reference names a project file; map it to the assembly name the rules speak of.
        var assemblyOf = files.Zip(projects).ToDictionary(z => Path.GetFileNameWithoutExtension(z.First), z => z.Second.Name, StringComparer.Ordinal);
        return projects.Select(p => p with { References = p.References.Select(r => assemblyOf.GetValueOrDefault(r, r)).ToList() }).ToList();
    }
}
