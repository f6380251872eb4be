using System.Globalization;
using System.Text.Json.Nodes;

namespace DANNet.Model;

/// <summary>
/// Latencies of repeated work, in milliseconds: the one summary <c>dannet-edge bench</c>, replay, the daemon's statistics line and
/// dannet-calibrate's timing report. Percentiles are nearest-rank over the exact samples (no binning): the p-th percentile is the
/// smallest sample with at least p % of the samples at or below it.
/// </summary>
public sealed record LatencySummary(int Count, double Min, double Mean, double P50, double P90, double P95, double P99, double Max)
{
    /// <summary>The summary of no samples (every figure NaN).</summary>
    public static LatencySummary Empty { get; } = new(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

    /// <summary>Summarises <paramref name="milliseconds"/> (not changed: a copy is sorted).</summary>
    public static LatencySummary Of(ReadOnlySpan<double> milliseconds)
    {
        if (milliseconds.IsEmpty) return Empty;
        var sorted = milliseconds.ToArray();
        Array.Sort(sorted);
        double sum = 0;
        foreach (double v in sorted) sum += v;
        return new LatencySummary(sorted.Length, sorted[0], sum / sorted.Length, Rank(sorted, 50), Rank(sorted, 90), Rank(sorted, 95), Rank(sorted, 99), sorted[^1]);
    }

    /// <inheritdoc cref="Of(ReadOnlySpan{double})"/>
    public static LatencySummary Of(IEnumerable<double> milliseconds) => Of(milliseconds.ToArray());

    /// <summary>The nearest-rank <paramref name="percent"/>-th percentile of sorted samples.</summary>
    public static double Rank(ReadOnlySpan<double> sorted, double percent) =>
        sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>This summary with every figure rounded to <paramref name="digits"/> decimals (for reports).</summary>
    public LatencySummary Rounded(int digits) =>
        new(Count, Math.Round(Min, digits), Math.Round(Mean, digits), Math.Round(P50, digits), Math.Round(P90, digits), Math.Round(P95, digits),
            Math.Round(P99, digits), Math.Round(Max, digits));

    /// <summary>The figures as a JSON object (<c>count, min, mean, p50, p90, p95, p99, max</c>, ms, 3 decimals); null figures for no samples.</summary>
    public JsonObject ToJson()
    {
        JsonNode? Ms(double v) => double.IsNaN(v) ? null : JsonValue.Create(Math.Round(v, 3));
        return new JsonObject
        {
            ["count"] = Count, ["min"] = Ms(Min), ["mean"] = Ms(Mean), ["p50"] = Ms(P50), ["p90"] = Ms(P90), ["p95"] = Ms(P95), ["p99"] = Ms(P99), ["max"] = Ms(Max),
        };
    }

    /// <summary><c>min/mean/p50/p90/p95/p99/max</c> on one line, ms with <paramref name="decimals"/> decimals.</summary>
    public string ToString(int decimals) => string.Create(CultureInfo.InvariantCulture,
        $"min {Min.ToString("F" + decimals, CultureInfo.InvariantCulture)}, mean {Mean.ToString("F" + decimals, CultureInfo.InvariantCulture)}, " +
        $"p50 {P50.ToString("F" + decimals, CultureInfo.InvariantCulture)}, p99 {P99.ToString("F" + decimals, CultureInfo.InvariantCulture)}, " +
        $"max {Max.ToString("F" + decimals, CultureInfo.InvariantCulture)}");
}
