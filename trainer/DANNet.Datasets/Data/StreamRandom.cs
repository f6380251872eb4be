namespace DANNet.Trainer.Data;

/// <summary>
/// A small, fast, explicitly specified PRNG (xoshiro256**, seeded through SplitMix64). SynthNight
/// promises "same seed, same bytes" across machines and .NET versions, which <see cref="Random"/>
/// does not; every frame derives its own stream from (seed, stream ids) so frames can be rendered
/// in parallel, in any order, with identical results. The training samplers use it the same way:
/// batch k depends only on (seed, k), which is what makes resume exact.
/// </summary>
public sealed class StreamRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public StreamRandom(ulong seed, params ReadOnlySpan<ulong> streams)
    {
        ulong x = seed;
        foreach (var s in streams) x = SplitMix(ref x) ^ (s * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL);
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [lo, hi).</summary>
    public int Int(int lo, int hi) => lo + (int)(NextDouble() * (hi - lo));

    public bool Chance(double p) => NextDouble() < p;

    public T Pick<T>(IReadOnlyList<T> items) => items[Int(0, items.Count)];

    /// <summary>Standard normal (Box–Muller; one value per call keeps the stream simple).</summary>
    public double Normal()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Fills <paramref name="values"/> with standard normal samples (two per Box–Muller draw).</summary>
    public void FillNormal(Span<float> values)
    {
        int i = 0;
        for (; i + 1 < values.Length; i += 2)
        {
            double u1 = 1.0 - NextDouble();
            double u2 = NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            (double s, double c) = Math.SinCos(2.0 * Math.PI * u2);
            values[i] = (float)(r * c);
            values[i + 1] = (float)(r * s);
        }
        if (i < values.Length) values[i] = (float)Normal();
    }
}
