using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DANNet.Edge.SharedMemory;

/// <summary>
/// The checksum of a slot's mask: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF) from
/// layout version 2 on, CRC-32 (IEEE, zlib's) in version 1. CRC-32C runs on the processor's CRC instruction (SSE 4.2, ARMv8 CRC) in
/// three independent lanes — the instruction's latency hides behind the other two — and the lanes' CRCs are joined by the GF(2)
/// arithmetic of CRC concatenation: crc(A‖B) = crc(A)·x^(8|B|) mod P ⊕ crc(B); where the processor has VPCLMULQDQ (AVX-512), by
/// carry-less multiplication instead, four 512-bit registers at a time. Same value as any CRC-32C implementation.
/// </summary>
public static class RingChecksum
{
    /// <summary>The reflected CRC-32C polynomial.</summary>
    private const uint Polynomial = 0x82F63B78;

    /// <summary>The checksum of <paramref name="mask"/> as layout <paramref name="version"/> defines it.</summary>
    public static uint Of(ReadOnlySpan<byte> mask, uint version) =>
        version >= 2 ? Crc32C(mask) : System.IO.Hashing.Crc32.HashToUInt32(mask);

    /// <summary>
    /// CRC-32C of <paramref name="data"/>: by carry-less multiplication in 512-bit registers where the processor has VPCLMULQDQ and the data
    /// is long enough (<see cref="Crc32CFolded"/>), else on the CRC instruction in three lanes (<see cref="Crc32CInLanes"/>).
    /// </summary>
    public static uint Crc32C(ReadOnlySpan<byte> data) =>
        Pclmulqdq.V512.IsSupported && data.Length >= FoldedMinimum ? Crc32CFolded(data) : Crc32CInLanes(data);

    /// <summary>The shortest data <see cref="Crc32CFolded"/> takes (two 256-byte steps).</summary>
    public const int FoldedMinimum = 512;

    /// <summary>CRC-32C on the CRC instruction (SSE 4.2, ARMv8 CRC; a table elsewhere) in three interleaved lanes, joined by CRC concatenation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Crc32CInLanes(ReadOnlySpan<byte> data)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        int lane = words.Length / 3;
        uint crc;
        if (lane >= 64)
        {
            uint a = uint.MaxValue, b = uint.MaxValue, c = uint.MaxValue;
            var wa = words[..lane];
            var wb = words.Slice(lane, lane);
            var wc = words.Slice(2 * lane, lane);
            for (int i = 0; i < wa.Length; i++)
            {
                a = BitOperations.Crc32C(a, wa[i]);
                b = BitOperations.Crc32C(b, wb[i]);
                c = BitOperations.Crc32C(c, wc[i]);
            }
            uint shift = PowerOfX(8L * 8 * lane);
            crc = MultiplyModP(shift, MultiplyModP(shift, ~a) ^ ~b) ^ ~c;
            data = data[(3 * lane * 8)..];
        }
        else crc = 0;
        // The rest (or all of a short buffer) continues the register one word, then one byte, at a time.
        uint r = ~crc;
        var rest = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong w in rest) r = BitOperations.Crc32C(r, w);
        foreach (byte v in data[(rest.Length * 8)..]) r = BitOperations.Crc32C(r, v);
        return ~r;
    }

    /// <summary>The fold constants of a distance of <paramref name="bytes"/>: (x^(8·bytes+63) mod P, x^(8·bytes−1) mod P), reflected into the upper halves of two 64-bit words.</summary>
    private static Vector128<ulong> FoldConstants(int bytes) =>
        Vector128.Create((ulong)PowerOfX(8L * bytes + 63) << 32, (ulong)PowerOfX(8L * bytes - 1) << 32);

    private static readonly Vector128<ulong> Fold16 = FoldConstants(16), Fold32 = FoldConstants(32), Fold48 = FoldConstants(48), Fold64 = FoldConstants(64);
    private static readonly Vector512<ulong> Fold64x4 = Broadcast(Fold64);
    private static readonly Vector512<ulong> Fold256x4 = Broadcast(FoldConstants(256));

    private static Vector512<ulong> Broadcast(Vector128<ulong> k) => Vector512.Create(Vector256.Create(k, k), Vector256.Create(k, k));

    /// <summary>Each 16-byte lane of <paramref name="x"/> moved forward by the distance of <paramref name="k"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Fold(Vector512<ulong> x, Vector512<ulong> k) =>
        Pclmulqdq.V512.CarrylessMultiply(x, k, 0x00) ^ Pclmulqdq.V512.CarrylessMultiply(x, k, 0x11);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Fold(Vector128<ulong> x, Vector128<ulong> k) =>
        Pclmulqdq.CarrylessMultiply(x, k, 0x00) ^ Pclmulqdq.CarrylessMultiply(x, k, 0x11);

    /// <summary>
    /// CRC-32C by carry-less multiplication (VPCLMULQDQ, AVX-512), 256 bytes per step in four 512-bit accumulators of four 16-byte lanes:
    /// each lane's block B = B_hi·x⁶⁴ + B_lo moves forward by d bytes as B_hi·(x^(8d+64) mod P) + B_lo·(x^(8d) mod P), a 96-bit value
    /// that XORs onto the block d bytes later (the constants carry one x fewer, for the bit a reflected product gains). The accumulators
    /// fold into one, its lanes into 16 bytes, which the CRC instruction finishes with the tail. At least <see cref="FoldedMinimum"/> bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Crc32CFolded(ReadOnlySpan<byte> data)
    {
        if (!Pclmulqdq.V512.IsSupported) throw new PlatformNotSupportedException("VPCLMULQDQ (AVX-512) is not available on this processor.");
        if (data.Length < FoldedMinimum) throw new ArgumentException($"The folded CRC takes at least {FoldedMinimum} bytes, not {data.Length}.", nameof(data));
        ref byte start = ref MemoryMarshal.GetReference(data);
        int blocks = data.Length / 256;
        var a0 = Vector512.LoadUnsafe(ref start).AsUInt64() ^ Vector512.CreateScalar(0xFFFFFFFFUL);
        var a1 = Vector512.LoadUnsafe(ref start, 64).AsUInt64();
        var a2 = Vector512.LoadUnsafe(ref start, 128).AsUInt64();
        var a3 = Vector512.LoadUnsafe(ref start, 192).AsUInt64();
        var k = Fold256x4;
        for (int b = 1; b < blocks; b++)
        {
            nuint o = (nuint)(b * 256);
            a0 = Fold(a0, k) ^ Vector512.LoadUnsafe(ref start, o).AsUInt64();
            a1 = Fold(a1, k) ^ Vector512.LoadUnsafe(ref start, o + 64).AsUInt64();
            a2 = Fold(a2, k) ^ Vector512.LoadUnsafe(ref start, o + 128).AsUInt64();
            a3 = Fold(a3, k) ^ Vector512.LoadUnsafe(ref start, o + 192).AsUInt64();
        }
        a1 ^= Fold(a0, Fold64x4);
        a2 ^= Fold(a1, Fold64x4);
        a3 ^= Fold(a2, Fold64x4);
        var x = Fold(a3.GetLower().GetLower(), Fold48) ^ Fold(a3.GetLower().GetUpper(), Fold32) ^ Fold(a3.GetUpper().GetLower(), Fold16)
            ^ a3.GetUpper().GetUpper();
        uint r = BitOperations.Crc32C(0u, x.GetElement(0));
        r = BitOperations.Crc32C(r, x.GetElement(1));
        foreach (byte v in data[(blocks * 256)..]) r = BitOperations.Crc32C(r, v);
        return ~r;
    }

    /// <summary>a(x)·b(x) mod P(x) in the reflected representation (bit 31 is x⁰).</summary>
    private static uint MultiplyModP(uint a, uint b)
    {
        uint product = 0;
        for (uint m = 1u << 31; m != 0; m >>= 1)
        {
            if ((a & m) != 0) product ^= b;
            b = (b & 1) != 0 ? (b >> 1) ^ Polynomial : b >> 1;
        }
        return product;
    }

    /// <summary>x^<paramref name="bits"/> mod P(x), by squaring.</summary>
    private static uint PowerOfX(long bits)
    {
        uint result = 1u << 31, square = 1u << 30;   // x⁰ and x¹
        for (; bits != 0; bits >>= 1)
        {
            if ((bits & 1) != 0) result = MultiplyModP(result, square);
            square = MultiplyModP(square, square);
        }
        return result;
    }
}
