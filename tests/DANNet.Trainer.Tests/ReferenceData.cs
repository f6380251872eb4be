using System.Text.Json;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests;

/// <summary>
/// The reference implementation's keys, checkpoints and golden values, in <c>../shared/reference/dannet-official</c>
/// beside the repository (as on developer machines and in CI).
/// </summary>
public static class ReferenceData
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        string path = Path.GetFullPath(Path.Combine(RepositoryRoot.Folder, "..", "shared", "reference", "dannet-official"));
        if (!Directory.Exists(path)) throw new InvalidOperationException($"The reference data folder {path} is missing: it belongs beside the repository (../shared).");
        return path;
    });

    private static readonly Lazy<JsonDocument> s_golden = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "golden.json"))));

    public static string Root => s_root.Value;

    public static string File_(string name) => Path.Combine(Root, name);

    /// <summary>Rows of <c>official-keys/&lt;name&gt;.tsv</c>: key, shape ("64x3x7x7", "scalar" = 0-d) and dtype.</summary>
    public static List<(string Key, long[] Shape, string DType)> Keys(string name) =>
        File.ReadLines(Path.Combine(Root, "official-keys", name + ".tsv")).Skip(1)
            .Where(l => l.Length > 0)
            .Select(l => l.Split('\t'))
            .Select(f => (f[0], f[1] == "scalar" ? Array.Empty<long>() : f[1].Split('x').Select(long.Parse).ToArray(), f[2]))
            .ToList();

    public static double Scalar(string name) => s_golden.Value.RootElement.GetProperty(name).GetDouble();

    /// <summary>A golden tensor (float32) with its shape.</summary>
    public static Tensor Tensor(string name)
    {
        var e = s_golden.Value.RootElement.GetProperty(name);
        long[] shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        float[] data = e.GetProperty("data").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        return tensor(data, shape);
    }
}
