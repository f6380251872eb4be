using System.Diagnostics;

namespace DANNet.Trainer.Training;

/// <summary>
/// The speed and the time left of a run: iterations per second over a sliding window (the last <see cref="WindowIterations"/>
/// iterations, so a slow first iteration or a pause for evaluation fades out), and the ETA = iterations left at that speed +
/// evaluations left (<c>evaluationsLeft(done)</c>) × the last evaluation's duration. The first iteration is not in the window (it warms up libtorch).
/// </summary>
public sealed class TrainingClock(long total, Func<long, long> evaluationsLeft, Func<double>? seconds = null)
{
    public const int WindowIterations = 20;

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>Seconds since the clock started (a test gives its own time).</summary>
    private double Now => seconds?.Invoke() ?? _clock.Elapsed.TotalSeconds;
    private readonly Queue<(long Iteration, double Seconds)> _window = new();
    private double _lastEvaluationSeconds = double.NaN;

    /// <summary>Marks iteration <paramref name="done"/> finished now (1-based: the number of iterations done).</summary>
    public void Finished(long done)
    {
        _window.Enqueue((done, Now));
        while (_window.Count > WindowIterations + 1) _window.Dequeue();
    }

    /// <summary>Call when an evaluation ended; evaluation time is left out of the iteration speed.</summary>
    public void Evaluated(double seconds)
    {
        _lastEvaluationSeconds = seconds;
        // The window restarts after the pause, so the speed stays that of iterating.
        var last = _window.Count > 0 ? _window.Last() : default;
        _window.Clear();
        if (last.Iteration > 0) _window.Enqueue((last.Iteration, Now));
    }

    /// <summary>Iterations per second over the window (0 until two iterations are in it).</summary>
    public double ItPerSec
    {
        get
        {
            if (_window.Count < 2) return 0;
            var (firstIt, firstS) = _window.Peek();
            var (lastIt, lastS) = _window.Last();
            return lastS > firstS ? (lastIt - firstIt) / (lastS - firstS) : 0;
        }
    }

    /// <summary>
    /// Time to the end of the run after <paramref name="done"/> iterations, or null while the speed is unknown. Until an evaluation
    /// has been timed (the start of a run, or of a resumed one) the evaluations ahead are not in it: <see cref="UntimedEvaluations"/> says how many.
    /// </summary>
    public TimeSpan? Eta(long done)
    {
        double rate = ItPerSec;
        if (rate <= 0) return null;
        double seconds = (total - done) / rate;
        if (!double.IsNaN(_lastEvaluationSeconds)) seconds += evaluationsLeft(done) * _lastEvaluationSeconds;
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The evaluations after <paramref name="done"/> that <see cref="Eta"/> leaves out (all of them until one has been timed, then none).</summary>
    public long UntimedEvaluations(long done) => double.IsNaN(_lastEvaluationSeconds) ? evaluationsLeft(done) : 0;

    /// <summary>"2 h 05 min", "14 min 10 s", "42 s".</summary>
    public static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours} h {t.Minutes:D2} min" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes} min {t.Seconds:D2} s" : $"{t.TotalSeconds:F0} s";
}
