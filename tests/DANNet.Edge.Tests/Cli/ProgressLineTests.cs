using DANNet.Model;

namespace DANNet.Edge.Tests.Cli;

public sealed class ProgressLineTests
{
    private sealed class Clock
    {
        public DateTime Now = new(2026, 12, 3, 0, 0, 0, DateTimeKind.Utc);
    }

    [Fact]
    public void In_a_log_the_first_report_each_tenth_and_the_last_are_whole_lines()
    {
        var log = new StringWriter();
        var clock = new Clock();
        var line = new ProgressLine(log, terminal: false, now: () => clock.Now);
        for (int i = 1; i <= 45; i++) line.Report($"{i}/45 images", i, 45);
        line.End();
        string[] lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // 1 (first), then the first report of each tenth: 5 (1/9 → tenth 1), 9, 14, 18, 23, 27, 32, 36, 41, 45 (last).
        Assert.Equal(["1/45", "5/45", "9/45", "14/45", "18/45", "23/45", "27/45", "32/45", "36/45", "41/45", "45/45"],
            lines.Select(l => l.Trim().Split(' ')[0]));
        Assert.All(lines, l => Assert.StartsWith("  ", l));
        Assert.DoesNotContain("\r", log.ToString());
    }

    [Fact]
    public void In_a_log_work_of_unknown_length_shows_a_line_every_log_interval()
    {
        var log = new StringWriter();
        var clock = new Clock();
        var line = new ProgressLine(log, terminal: false, now: () => clock.Now);
        for (int frame = 1; frame <= 100; frame++)
        {
            line.Report($"frame {frame}", frame, 0);
            clock.Now += TimeSpan.FromSeconds(1);   // one frame a second: a line at frames 1, 11, 21, ...
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(k => $"  frame {1 + 10 * k}"), log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void On_a_terminal_the_line_is_redrawn_in_place_padded_and_ended_once()
    {
        var screen = new StringWriter();
        var clock = new Clock();
        var line = new ProgressLine(screen, terminal: true, now: () => clock.Now);
        line.Report("drive 1/2 long-name: frame 10/20", 10, 20);
        line.Report("drive 1/2 long-name: frame 11/20", 11, 20);   // within the redraw interval: not drawn
        clock.Now += ProgressLine.RedrawInterval;
        line.Report("drive 2/2 a: frame 1/20", 1, 20);
        line.Report("drive 2/2 a: frame 20/20", 20, 20);           // the last is always drawn
        line.End();
        string width = new(' ', "drive 1/2 long-name: frame 10/20".Length - "drive 2/2 a: frame 1/20".Length);
        Assert.Equal("\r  drive 1/2 long-name: frame 10/20" + "\r  drive 2/2 a: frame 1/20" + width + "\r  drive 2/2 a: frame 20/20" +
            new string(' ', "drive 1/2 long-name: frame 10/20".Length - "drive 2/2 a: frame 20/20".Length) + Environment.NewLine, screen.ToString());
    }

    [Fact]
    public void End_without_a_report_writes_nothing()
    {
        var screen = new StringWriter();
        new ProgressLine(screen, terminal: true).End();
        new ProgressLine(screen, terminal: false).End();
        Assert.Equal("", screen.ToString());
    }
}
