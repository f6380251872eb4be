using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Diagnostics;

/// <summary>
/// Seeded weights that need no file: every state-dict entry is a function of its key, computed bit
/// for bit as <c>tests/data/reference/make_segmentation_goldens.py</c> computes it for the reference's
/// nets (three ResNet-101 state dicts would be 520 MB in the repository); `dannet-train conformance` runs our training loop on them. FNV-1a (64 bit) of the key
/// seeds SplitMix64 over the element index; the top 24 bits give a value in [−1, 1) that float32
/// holds exactly, then scaled per kind of entry (the same rules as the script's <c>seeded_value</c>).
/// </summary>
public static class SeededWeights
{
    /// <summary>
    /// Fills every floating-point entry of <paramref name="module"/>'s state dict (integer counters are left); each is keyed by
    /// <paramref name="prefix"/> + its state-dict key (a prefix gives two nets of one kind different weights).
    /// </summary>
    public static void Fill(nn.Module module, string prefix = "")
    {
        using var noGrad = no_grad();
        foreach (var (key, t) in module.state_dict())
        {
            if (!t.is_floating_point()) continue;
            using var value = tensor(Values(prefix + key, t.shape), t.shape);
            t.copy_(value);
        }
    }

    /// <summary>The unscaled values in [−1, 1) for <paramref name="key"/>, as a float32 tensor of <paramref name="shape"/> (the script's <c>unit_values</c>).</summary>
    public static Tensor Units(string key, params long[] shape)
    {
        return tensor(UnitArray(key, shape), shape);
    }

    /// <summary>The unscaled values of <paramref name="key"/>, row-major: SplitMix64 from the key's FNV-1a over element indices 1…n.</summary>
    private static float[] UnitArray(string key, long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[n];
        ulong seed = KeySeed(key);
        for (long i = 0; i < n; i++) values[i] = Unit(seed, (ulong)i + 1);
        return values;
    }

    /// <summary>The value of one entry, row-major.</summary>
    public static float[] Values(string key, long[] shape)
    {
        var values = UnitArray(key, shape);
        string name = key[(key.LastIndexOf('.') + 1)..];
        // Each operation is one float32 rounding, in the script's order.
        if (name == "running_var") Scale(values, 0.5f, 1f);
        else if (name == "running_mean") Scale(values, 0.1f, 0f);
        else if (name == "bias") Scale(values, 0.1f, 0f);
        else if (shape.Length == 1) Scale(values, 0.25f, 1f); // BatchNorm scale
        else Scale(values, MathF.Sqrt((float)(3.0 / shape.Skip(1).Aggregate(1L, (a, b) => a * b))), 0f);
        return values;
    }

    private static void Scale(float[] values, float scale, float offset)
    {
        for (int i = 0; i < values.Length; i++) values[i] = offset + values[i] * scale;
    }

    private static ulong KeySeed(string key)
    {
        ulong h = 0xCBF29CE484222325;
        foreach (byte b in Encoding.UTF8.GetBytes(key)) h = unchecked((h ^ b) * 0x100000001B3);
        return h;
    }

    private static float Unit(ulong seed, ulong index)
    {
        unchecked
        {
            ulong z = seed + index * 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            z ^= z >> 31;
            long m = (long)(z >> 40);
            return (2 * m - (1 << 24)) / (float)(1 << 24);
        }
    }
}
