namespace DANNet.Trainer.Tests;

/// <summary>The repository's root folder (the one holding DANNet.Edge.sln), found above the test binaries.</summary>
public static class RepositoryRoot
{
    private static readonly Lazy<string> s_path = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DANNet.Edge.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException($"Cannot find the repository root (DANNet.Edge.sln) above {AppContext.BaseDirectory}.");
    });

    public static string Folder => s_path.Value;
}
