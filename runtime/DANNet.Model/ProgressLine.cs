namespace DANNet.Model;

/// <summary>
/// The progress line every command line shares (dannet-train eval, dannet-edge replay and validate, dannet-calibrate). On a terminal it
/// is one line redrawn in place, at most every <see cref="RedrawInterval"/>. Anywhere else — a log file, CI, a Kubernetes job's log, a
/// test's writer — each report that shows is a line of its own: the first, each tenth of the way, the last, and for work of unknown
/// length one every <see cref="LogInterval"/>; so a log reads as lines, not as one line of carriage returns.
/// </summary>
public sealed class ProgressLine
{
    public static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly TextWriter _writer;
    private readonly bool _terminal;
    private readonly Func<DateTime> _now;
    private DateTime _last = DateTime.MinValue;
    private int _lastTenth = -1;
    private int _width;

    /// <param name="writer">Where the line goes (usually <see cref="Console.Error"/>).</param>
    /// <param name="terminal">Redraw in place; default: <paramref name="writer"/> is the console's error stream and it is not redirected.</param>
    /// <param name="now">The clock (tests).</param>
    public ProgressLine(TextWriter writer, bool? terminal = null, Func<DateTime>? now = null)
    {
        _writer = writer;
        _terminal = terminal ?? (ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected);
        _now = now ?? (() => DateTime.UtcNow);
    }

    /// <summary>Shows <paramref name="text"/> for <paramref name="done"/> of <paramref name="total"/> (total ≤ 0: of unknown length).</summary>
    public void Report(string text, long done, long total)
    {
        var now = _now();
        bool last = total > 0 && done >= total;
        if (_terminal)
        {
            if (!last && now - _last < RedrawInterval) return;
            _last = now;
            // Padded to the longest line drawn so far, so a shorter line does not leave the end of a longer one behind.
            _width = Math.Max(_width, text.Length);
            _writer.Write("\r  " + text.PadRight(_width));
            return;
        }
        int tenth = total > 0 ? (int)Math.Min(10, 10 * done / total) : -1;
        bool show = _last == DateTime.MinValue || last || (total > 0 ? tenth != _lastTenth : now - _last >= LogInterval);
        if (!show) return;
        _last = now;
        _lastTenth = tenth;
        _writer.WriteLine("  " + text);
    }

    /// <summary>Ends the redrawn line on a terminal (elsewhere every report shown was already a line).</summary>
    public void End()
    {
        if (_terminal && _width > 0) _writer.WriteLine();
        _width = 0;
    }
}
