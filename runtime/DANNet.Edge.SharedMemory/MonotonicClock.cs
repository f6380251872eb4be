using System.Diagnostics;

namespace DANNet.Edge.SharedMemory;

/// <summary>
/// CLOCK_MONOTONIC in nanoseconds — the clock every process of the machine shares (on Linux,
/// <see cref="Stopwatch"/> reads it), so timestamps written by one process compare with another's.
/// </summary>
public static class MonotonicClock
{
    private static readonly double NsPerTick = 1e9 / Stopwatch.Frequency;

    public static ulong NowNs => Stopwatch.Frequency == 1_000_000_000 ? (ulong)Stopwatch.GetTimestamp() : (ulong)(Stopwatch.GetTimestamp() * NsPerTick);
}
