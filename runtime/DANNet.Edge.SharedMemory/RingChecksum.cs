using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DANNet.Edge.SharedMemory;

/// <summary>
/// The checksum of a slot's mask: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF) from
/// layout version 2 on, CRC-32 (IEEE, zlib's) in version 1. CRC-32C runs on the processor's CRC instruction (SSE 4.2, ARMv8 CRC) in
/// three independent lanes — the instruction's latency hides behind the other two — and the lanes' CRCs are joined by the GF(2)
/// arithmetic of CRC concatenation: crc(A‖B) = crc(A)·x^(8|B|) mod P ⊕ crc(B). Same value as any CRC-32C implementation.
/// </summary>
public static class RingChecksum
{
    /// <summary>The reflected CRC-32C polynomial.</summary>
    private const uint Polynomial = 0x82F63B78;

    /// <summary>The checksum of <paramref name="mask"/> as layout <paramref name="version"/> defines it.</summary>
    public static uint Of(ReadOnlySpan<byte> mask, uint version) =>
        version >= 2 ? Crc32C(mask) : System.IO.Hashing.Crc32.HashToUInt32(mask);

    /// <summary>CRC-32C of <paramref name="data"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Crc32C(ReadOnlySpan<byte> data)
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
