using System.Text.Json;
using System.Text.Json.Serialization;
using DANNet.Model.IO;

namespace DANNet.Edge.Validation;

/// <summary>
/// Everything a validation keeps of one drive — raw enough that the results of any split of the drives add up to the whole:
/// per-frame latencies of each model, pixel counts per class, the baseline-vs-new confusion counts, label confusion counts, and
/// the drive's worst frames. Written as <c>drives/&lt;id&gt;.json</c> when the drive is done.
/// </summary>
public sealed class DriveResult
{
    public required string Drive { get; init; }
    public required string Input { get; init; }
    public string? Labels { get; init; }

    /// <summary>"ok", or what stopped the drive (a fault reading it; the frames before it are kept).</summary>
    public string Status { get; set; } = "ok";

    public long Frames { get; set; }

    /// <summary>Per frame, the new model's preprocess + infer + publish time (ms).</summary>
    public List<double> NewLatencyMs { get; init; } = [];

    /// <summary>Per frame, the baseline's (empty without a baseline).</summary>
    public List<double> BaselineLatencyMs { get; init; } = [];

    /// <summary>Mask pixels per class of the new model (at its size).</summary>
    public required long[] NewClassPixels { get; init; }

    /// <summary>Mask pixels per class of the baseline (at its size), or null.</summary>
    public long[]? BaselineClassPixels { get; init; }

    /// <summary>Baseline (rows) against new (columns), compared at the new model's size; null without a baseline.</summary>
    public long[]? Agreement { get; set; }

    /// <summary>Per frame, the share of pixels both models give the same class.</summary>
    public List<double> FrameAgreement { get; init; } = [];

    public int LabelledFrames { get; set; }

    /// <summary>Labels (rows) against the new model (columns), over the labelled frames.</summary>
    public long[]? NewVsLabels { get; set; }

    /// <summary>Labels against the baseline.</summary>
    public long[]? BaselineVsLabels { get; set; }

    /// <summary>The drive's frames the two models agree on least, lowest first, each with its picture.</summary>
    public List<WorstFrame> Worst { get; set; } = [];

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public void Write(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Reads a drive's results; a file that is not one is an error naming it.</summary>
    public static DriveResult Read(string path)
    {
        DriveResult? result;
        try
        {
            result = JsonSerializer.Deserialize<DriveResult>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not a drive's validation result ({ex.Message}).", ex);
        }
        if (result is null || result.NewLatencyMs.Count != result.Frames || result.FrameAgreement.Count is var n && n != 0 && n != result.Frames)
            throw new InvalidDataException($"'{path}' is not a complete drive result (frames and per-frame values disagree).");
        return result;
    }
}

/// <summary>A frame the two models disagree on: its drive, index (and file for an image folder), agreement, and picture (relative to the output).</summary>
public sealed record WorstFrame(string Drive, long Frame, string? File, double Agreement, string Image)
{
    /// <summary>Lowest agreement first; ties by drive and frame, so every split of the drives ranks them alike.</summary>
    public static IComparer<WorstFrame> Order { get; } = Comparer<WorstFrame>.Create((a, b) =>
    {
        int c = a.Agreement.CompareTo(b.Agreement);
        if (c == 0) c = string.CompareOrdinal(a.Drive, b.Drive);
        return c != 0 ? c : a.Frame.CompareTo(b.Frame);
    });
}
