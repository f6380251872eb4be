namespace DANNet.Model;

/// <summary>The ONNX Runtime execution providers dannet-edge can run a model on.</summary>
public enum ExecutionProvider { TensorRt, Cuda, Cpu }

/// <summary>
/// The providers' table: each one's name in configuration (<c>Model:Providers</c>), options and
/// logs, and whether it needs the GPU libraries. Names are parsed here once, at the edge; a
/// provider without a row is an error, never a default.
/// </summary>
public static class ExecutionProviderNames
{
    private static readonly (ExecutionProvider Provider, string Name, bool NeedsGpu)[] Table =
    [
        (ExecutionProvider.TensorRt, "tensorrt", true),
        (ExecutionProvider.Cuda, "cuda", true),
        (ExecutionProvider.Cpu, "cpu", false),
    ];

    /// <summary>Every provider's name, in the table's order (the default preference).</summary>
    public static IReadOnlyList<string> Names { get; } = Table.Select(r => r.Name).ToArray();

    /// <summary>The names as a list for messages: "tensorrt, cuda or cpu".</summary>
    public static string Listed => string.Join(", ", Names.SkipLast(1)) + " or " + Names[^1];

    public static string Name(this ExecutionProvider provider) => Row(provider).Name;

    public static bool NeedsGpu(this ExecutionProvider provider) => Row(provider).NeedsGpu;

    public static bool TryParse(string name, out ExecutionProvider provider)
    {
        foreach (var row in Table)
            if (row.Name == name)
            {
                provider = row.Provider;
                return true;
            }
        provider = default;
        return false;
    }

    /// <summary>The provider named <paramref name="name"/> (lower case, as in configuration).</summary>
    public static ExecutionProvider Parse(string name) =>
        TryParse(name, out var provider) ? provider : throw new ArgumentException($"Unknown execution provider '{name}': use {Listed} (lower case).");

    private static (ExecutionProvider Provider, string Name, bool NeedsGpu) Row(ExecutionProvider provider)
    {
        foreach (var row in Table)
            if (row.Provider == provider) return row;
        throw new ArgumentOutOfRangeException(nameof(provider), provider, $"Execution provider {provider} has no row in {nameof(ExecutionProviderNames)}.");
    }
}
