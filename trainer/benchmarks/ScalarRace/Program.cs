using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

// Runs tiny libtorch operations for N seconds per variant while a second thread forces full
// collections and finalizers back to back, and counts the operations that fail or give a wrong
// value. "implicit": the alpha and the factor are .NET doubles, converted to TorchSharp Scalars
// that nothing holds once their handle is passed to libtorch. "held": the same operations with
// Scalars made once and disposed after use, as docs/conventions.md prescribes.
double seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 20;
torch.set_num_threads(1);
foreach (bool held in new[] { false, true })
{
    var (ops, wrong, errors, collections, first) = Run(held, seconds);
    string label = held ? "held    " : "implicit";
    string error = first is null ? "" : $"; first error: {first}";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label}: {ops,9:N0} operations, {wrong} wrong values, {errors} libtorch errors, {collections:N0} forced collections{error}"));
}

static (long Ops, long Wrong, long Errors, long Collections, string? FirstError) Run(bool held, double seconds)
{
    long collections = 0;
    bool stop = false;
    var hammer = new Thread(() =>
    {
        while (!Volatile.Read(ref stop))
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Interlocked.Increment(ref collections);
        }
    }) { IsBackground = true };
    hammer.Start();
    using var a = ones(64);
    using var half = 0.5.ToScalar();
    using var three = 3.0.ToScalar();
    long ops = 0, wrong = 0, errors = 0;
    string? first = null;
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        try
        {
            using var b = zeros(64);
            if (held) b.add_(a, alpha: half); else b.add_(a, alpha: 0.5);
            using var c = held ? b.mul(three) : b * 3.0;
            if (c[0].item<float>() != 1.5f) wrong++;
        }
        catch (Exception ex)
        {
            errors++;
            first ??= ex.Message.Split('\n')[0];
        }
        ops++;
    }
    Volatile.Write(ref stop, true);
    hammer.Join();
    return (ops, wrong, errors, Interlocked.Read(ref collections), first);
}
