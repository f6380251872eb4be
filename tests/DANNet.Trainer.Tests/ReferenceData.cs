using System.Text.Json;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests;

/// <summary>
/// The reference implementation's keys, checkpoints and golden values, in <c>tests/data/reference</c>
/// (its README says where each file came from and how to make it again).
/// </summary>
public static class ReferenceData
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        string path = Path.Combine(RepositoryRoot.Folder, "tests", "data", "reference");
        if (!File.Exists(Path.Combine(path, "golden.json")))
            throw new InvalidOperationException($"The reference data folder {path} is incomplete (no golden.json): restore it from git (git checkout -- tests/data/reference).");
        return path;
    });

    private static readonly Lazy<JsonDocument> s_golden = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "golden.json"))));
    private static readonly Lazy<JsonDocument> s_segmentation = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "segmentation_goldens.json"))));

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
    public static Tensor Tensor(string name) => Read(s_golden.Value.RootElement.GetProperty(name), ScalarType.Float32);

    /// <summary>
    /// A tensor of <c>segmentation_goldens.json</c> (the reference's segmentation nets, made by
    /// <c>make_segmentation_goldens.py</c>), as <paramref name="type"/>: float32 values were written with 9
    /// significant digits and float64 ones with 17, so both read back exactly.
    /// </summary>
    public static Tensor SegmentationTensor(string name, ScalarType type) => Read(s_segmentation.Value.RootElement.GetProperty(name), type);

    private static Tensor Read(JsonElement e, ScalarType type)
    {
        long[] shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        double[] data = e.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        return type == ScalarType.Float64 ? tensor(data, shape) : tensor(data.Select(v => (float)v).ToArray(), shape).to(type);
    }
}
