namespace DANNet.Edge.Contracts;

/// <summary>
/// Antialiased bilinear resizing of 8-bit interleaved images with the arithmetic of PIL's
/// <c>Image.resize(size, BILINEAR)</c> — what torchvision's <c>Resize</c> does to a PIL image, and so
/// the resize of the reference evaluation. When shrinking, the triangle filter is widened by the
/// scale factor, so every source pixel contributes (OpenCV's <c>INTER_LINEAR</c> samples 2x2 pixels
/// whatever the scale, and aliases). Separable, horizontal pass first into an 8-bit intermediate,
/// then vertical; weights in 22-bit fixed point, rounded as PIL rounds them. Byte-exact with PIL
/// (tests/fixtures/pil-resize).
///
/// A plan is made once per (input size, output size); <see cref="Resize"/> then allocates nothing.
/// </summary>
public sealed class AntialiasedResize
{
    private const int PrecisionBits = 32 - 8 - 2;
    private readonly Axis _horizontal;
    private readonly Axis _vertical;
    private readonly int _firstRow;
    private readonly byte[] _intermediate;

    /// <summary>A plan for <paramref name="channels"/>-channel images of <paramref name="inWidth"/>x<paramref name="inHeight"/> to <paramref name="outWidth"/>x<paramref name="outHeight"/>.</summary>
    public AntialiasedResize(int inWidth, int inHeight, int outWidth, int outHeight, int channels = 3)
    {
        if (inWidth < 1 || inHeight < 1 || outWidth < 1 || outHeight < 1) throw new ArgumentOutOfRangeException(nameof(inWidth), "Sizes must be positive.");
        if (channels is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(channels), "1 to 4 interleaved channels.");
        (InWidth, InHeight, OutWidth, OutHeight, Channels) = (inWidth, inHeight, outWidth, outHeight, channels);
        _horizontal = new Axis(inWidth, outWidth);
        _vertical = new Axis(inHeight, outHeight);
        // Only the rows the vertical pass reads go through the horizontal pass.
        _firstRow = _vertical.Start[0];
        int lastRow = _vertical.Start[outHeight - 1] + _vertical.Count[outHeight - 1];
        _intermediate = new byte[outWidth * channels * (lastRow - _firstRow)];
    }

    /// <summary>Source width in pixels.</summary>
    public int InWidth { get; }

    /// <summary>Source height in pixels.</summary>
    public int InHeight { get; }

    /// <summary>Output width in pixels.</summary>
    public int OutWidth { get; }

    /// <summary>Output height in pixels.</summary>
    public int OutHeight { get; }

    /// <summary>Interleaved channels per pixel.</summary>
    public int Channels { get; }

    /// <summary>Resizes <paramref name="source"/> (rows <paramref name="sourceStride"/> bytes apart) into <paramref name="destination"/>.</summary>
    public void Resize(ReadOnlySpan<byte> source, int sourceStride, Span<byte> destination, int destinationStride)
    {
        int c = Channels;
        if (sourceStride < InWidth * c || source.Length < sourceStride * (InHeight - 1) + InWidth * c)
            throw new ArgumentException($"The source holds fewer than {InWidth}x{InHeight}x{c} bytes at stride {sourceStride}.", nameof(source));
        if (destinationStride < OutWidth * c || destination.Length < destinationStride * (OutHeight - 1) + OutWidth * c)
            throw new ArgumentException($"The destination holds fewer than {OutWidth}x{OutHeight}x{c} bytes at stride {destinationStride}.", nameof(destination));

        int rows = _intermediate.Length / (OutWidth * c);
        int rowBytes = OutWidth * c;
        unsafe
        {
            fixed (byte* src = source, dst = destination, mid = _intermediate)
            fixed (int* hw = _horizontal.Weights, vw = _vertical.Weights)
            {
                for (int y = 0; y < rows; y++)
                    Horizontal(src + (long)(y + _firstRow) * sourceStride, mid + (long)y * rowBytes, hw);
                for (int y = 0; y < OutHeight; y++)
                {
                    int* weights = vw + y * _vertical.Taps;
                    int taps = _vertical.Count[y];
                    byte* first = mid + (long)(_vertical.Start[y] - _firstRow) * rowBytes;
                    byte* output = dst + (long)y * destinationStride;
                    for (int x = 0; x < rowBytes; x++)
                    {
                        int sum = Half;
                        byte* p = first + x;
                        for (int k = 0; k < taps; k++, p += rowBytes) sum += *p * weights[k];
                        output[x] = Clip(sum);
                    }
                }
            }
        }
    }

    private const int Half = 1 << (PrecisionBits - 1);

    private unsafe void Horizontal(byte* row, byte* output, int* allWeights)
    {
        int c = Channels;
        int taps = _horizontal.Taps;
        for (int x = 0; x < OutWidth; x++)
        {
            int* weights = allWeights + x * taps;
            int count = _horizontal.Count[x];
            byte* p = row + _horizontal.Start[x] * c;
            if (c == 3)
            {
                int s0 = Half, s1 = Half, s2 = Half;
                for (int k = 0; k < count; k++, p += 3)
                {
                    int w = weights[k];
                    s0 += p[0] * w;
                    s1 += p[1] * w;
                    s2 += p[2] * w;
                }
                output[x * 3] = Clip(s0);
                output[x * 3 + 1] = Clip(s1);
                output[x * 3 + 2] = Clip(s2);
                continue;
            }
            for (int ch = 0; ch < c; ch++)
            {
                int sum = Half;
                for (int k = 0; k < count; k++) sum += p[k * c + ch] * weights[k];
                output[x * c + ch] = Clip(sum);
            }
        }
    }

    private static byte Clip(int sum)
    {
        int v = sum >> PrecisionBits;
        return (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
    }

    /// <summary>One axis: for each output index, the first source index, the number of taps and their fixed-point weights.</summary>
    private sealed class Axis
    {
        public Axis(int inSize, int outSize)
        {
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = 1.0 * filterScale; // the triangle's support is 1, widened when shrinking
            Taps = (int)Math.Ceiling(support) * 2 + 1;
            Start = new int[outSize];
            Count = new int[outSize];
            Weights = new int[outSize * Taps];
            var w = new double[Taps];
            for (int i = 0; i < outSize; i++)
            {
                double center = (i + 0.5) * scale;
                int min = Math.Max((int)(center - support + 0.5), 0);
                int count = Math.Min((int)(center + support + 0.5), inSize) - min;
                double total = 0;
                for (int k = 0; k < count; k++)
                {
                    double t = Math.Abs((k + min - center + 0.5) / filterScale);
                    w[k] = t < 1 ? 1 - t : 0;
                    total += w[k];
                }
                for (int k = 0; k < count; k++)
                {
                    double normalised = total != 0 ? w[k] / total : w[k];
                    // PIL rounds half away from zero.
                    Weights[i * Taps + k] = (int)(normalised < 0 ? -0.5 + normalised * (1 << PrecisionBits) : 0.5 + normalised * (1 << PrecisionBits));
                }
                Start[i] = min;
                Count[i] = count;
            }
        }

        public int Taps { get; }
        public int[] Start { get; }
        public int[] Count { get; }
        public int[] Weights { get; }
    }
}
