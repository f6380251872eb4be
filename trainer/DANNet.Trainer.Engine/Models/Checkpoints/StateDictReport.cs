using System.Text;

namespace DANNet.Trainer.Models.Checkpoints;

/// <summary>A key whose tensor in the file differs from the model's in shape or dtype.</summary>
public sealed record MismatchedKey(string Key, string ModelTensor, string FileTensor);

/// <summary>How a checkpoint's state dict compares with a model's.</summary>
public sealed record StateDictReport(
    string File,
    IReadOnlyList<string> Matched,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<MismatchedKey> Mismatched,
    string? StrippedPrefix)
{
    /// <summary>True when every model key is in the file with the same shape and dtype, and nothing else is.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    /// <summary>A readable report listing every missing, unexpected and mis-shaped key.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append($"{File}: {Matched.Count} keys match");
        if (StrippedPrefix is not null) sb.Append($" (after removing the prefix '{StrippedPrefix}')");
        sb.AppendLine(IsExact ? ", nothing missing, unexpected or mis-shaped." : ".");
        if (Missing.Count > 0) sb.AppendLine($"  missing in the file ({Missing.Count}): {string.Join(", ", Missing)}");
        if (Unexpected.Count > 0) sb.AppendLine($"  unexpected in the file ({Unexpected.Count}): {string.Join(", ", Unexpected)}");
        foreach (var m in Mismatched) sb.AppendLine($"  mis-shaped: {m.Key}: model {m.ModelTensor}, file {m.FileTensor}");
        return sb.ToString().TrimEnd();
    }
}
