using System.Text.RegularExpressions;

namespace DANNet.Trainer.Tests.Build;

/// <summary>The parts of .editorconfig the compiler does not check: here, the line length.</summary>
public sealed class SourceStyleTests
{
    [Fact]
    public void No_source_line_is_longer_than_the_editorconfig_allows()
    {
        string repo = RepositoryRoot.Folder;
        string editorconfig = File.ReadAllText(Path.Combine(repo, ".editorconfig"));
        int limit = int.Parse(Regex.Match(editorconfig, @"max_line_length\s*=\s*(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        var tooLong = new List<string>();
        foreach (var top in new[] { "trainer", "runtime", "calibration", "tests", "build" })
        {
            string root = Path.Combine(repo, top);
            if (!Directory.Exists(root)) continue;
            foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
            {
                if (file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")) continue;
                var lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                    if (lines[i].Length > limit) tooLong.Add($"{Path.GetRelativePath(repo, file)}:{i + 1} ({lines[i].Length})");
            }
        }
        Assert.True(limit >= 80, $"max_line_length {limit} in .editorconfig");
        Assert.True(tooLong.Count == 0, $"{tooLong.Count} lines over {limit} characters:\n" + string.Join("\n", tooLong));
    }
}
