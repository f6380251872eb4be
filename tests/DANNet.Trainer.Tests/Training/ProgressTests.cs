using DANNet.Trainer.Cli;
using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Training;
using Spectre.Console;

namespace DANNet.Trainer.Tests.Training;

/// <summary>How training tells its speed and the time left: the sliding window, the ETA, the evaluation schedule, the dry run.</summary>
[Collection(TinySynthNightCollection.Name)]
public sealed class ProgressTests(TinySynthNightFixture data)
{
    [Fact]
    public void The_speed_is_over_the_last_iterations_without_the_first_one_or_an_evaluation_pause()
    {
        double now = 0;
        var clock = new TrainingClock(100, done => done < 50 ? 2 : 1, () => now);
        now = 10; // a slow first iteration (warm-up)
        clock.Finished(1);
        Assert.Equal(0, clock.ItPerSec);
        Assert.Null(clock.Eta(1));
        now = 11;
        clock.Finished(2);
        now = 12;
        clock.Finished(3);
        Assert.Equal(1.0, clock.ItPerSec, 12);
        // Evaluations lie ahead and none has been timed yet: the ETA is the iterations', and says it leaves out both evaluations.
        Assert.Equal(TimeSpan.FromSeconds(97 / 1.0), clock.Eta(3));
        Assert.Equal(2, clock.UntimedEvaluations(3));
        now = 17;
        clock.Evaluated(5);
        now = 18;
        clock.Finished(4);
        Assert.Equal(1.0, clock.ItPerSec, 12); // the five seconds of evaluation are not iterating
        Assert.Equal(TimeSpan.FromSeconds(96 / 1.0 + 2 * 5), clock.Eta(4));
        Assert.Equal(0, clock.UntimedEvaluations(4));
        // Faster iterations push the slow ones out of the window.
        for (int i = 5; i <= 4 + TrainingClock.WindowIterations; i++)
        {
            now += 0.5;
            clock.Finished(i);
        }
        Assert.Equal(2.0, clock.ItPerSec, 9);
    }

    [Theory]
    [InlineData(0, 1200, 10, 120)]
    [InlineData(0, 2000, 7, 203)]
    [InlineData(0, 99, 1, 0)]
    [InlineData(-1, 5000, 10, 0)]
    [InlineData(25, 30, 10, 25)]
    public void Evaluation_happens_about_ten_times_by_default(int evalEvery, long iterations, int logEvery, long interval) =>
        Assert.Equal(interval, new RunConfig { EvalEvery = evalEvery, LogEvery = logEvery }.EvaluationInterval(iterations));

    [Fact]
    public void A_progress_line_names_the_speed_the_time_left_and_the_terms()
    {
        var terms = new Dictionary<string, double> { ["seg"] = 0.5123, ["d_day"] = 0.25 };
        string training = TrainCommand.ProgressLine(new TrainingProgress(120, 1200, terms, 0.4213, 0.073) { Eta = TimeSpan.FromSeconds(2590) });
        Assert.Equal("it 120/1200 (10 %) seg 0.512 d_day 0.250 | 0.42 it/s, ETA 43 min 10 s, night val mIoU 7.3", training);
        Assert.Equal("it 120/1200 (10 %) seg 0.512 d_day 0.250 | 0.42 it/s, ETA 43 min 10 s + 2 evaluations",
            TrainCommand.ProgressLine(new TrainingProgress(120, 1200, terms, 0.4213, null) { Eta = TimeSpan.FromSeconds(2590), EtaLeavesOut = 2 }));
        Assert.Equal("it 1/1200 (0 %) seg 0.512 d_day 0.250 | measuring speed", TrainCommand.ProgressLine(new TrainingProgress(1, 1200, terms, 0, null)));
        Assert.Equal("evaluating night val 12/25 (after it 600)",
            TrainCommand.ProgressLine(new TrainingProgress(600, 1200, terms, 0.4, null) { Phase = TrainingPhase.Evaluating, Evaluated = (12, 25) }));
        Assert.Equal("2 h 05 min", TrainingClock.Format(TimeSpan.FromMinutes(125)));
    }

    [Fact]
    public void The_dry_run_estimate_is_the_steady_iteration_times_the_iterations_plus_the_evaluations()
    {
        var config = TinyTraining.Config(data, 1000);
        var summary = new TrainingSummary(5, "x", null, null, null)
        {
            IterationSeconds = [9, 2, 3, 2.5, 2.2], EvaluationSecondsPerImage = 0.5, ValidationImages = 20, Evaluations = 11,
        };
        string report = TrainCommand.DryRunReport(config, "cpu", summary);
        Assert.Contains("first iteration 9.00 s (warm-up); then 2.50 s per iteration (median of 4)", report);
        Assert.Contains("training: 1000 iterations × 2.50 s ≈ 41 min 40 s", report);
        Assert.Contains("evaluation: 11 × 20 night val images × 0.50 s ≈ 1 min 50 s", report);
        Assert.Contains("estimated total ≈ 43 min 30 s on cpu, 1 thread", report);
    }

    [Fact]
    public void A_dry_run_times_the_real_run_and_keeps_nothing()
    {
        var config = TinyTraining.Config(data, 500);
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No });
        var before = Scratch();
        Assert.Equal(0, TrainCommand.Estimate(config, console, CancellationToken.None));
        string text = output.ToString();
        Assert.Contains("first iteration: ", text);
        Assert.Contains($"(median of {TrainCommand.DryRunIterations - 1})", text);
        Assert.Contains("training: 500 iterations × ", text);
        // 500 iterations ≥ 100: about ten evaluations (every 50, logEvery 1), the last at the end.
        Assert.Matches(@"evaluation: 10 × \d+ night val images × [0-9.]+ s", text);
        Assert.Equal(before, Scratch());
    }

    [Fact]
    public void A_redirected_run_prints_whole_lines_a_first_iteration_note_and_the_end()
    {
        string dir = TinyTraining.NewDir("progress");
        try
        {
            var output = new StringWriter();
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Interactive = InteractionSupport.No });
            Assert.Equal(0, TrainCommand.Run(TinyTraining.Config(data, 3), dir, false, console, CancellationToken.None));
            var lines = output.ToString().Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            Assert.Contains(lines, l => l.StartsWith("first iteration: ", StringComparison.Ordinal) && l.Contains("in the step", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("it 1/3 (33 %) seg ", StringComparison.Ordinal) && l.EndsWith("| measuring speed", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("evaluating night val 1/", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("done: 3 iterations, night val mIoU ", StringComparison.Ordinal));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    private static int Scratch() => Directory.GetDirectories(Path.GetTempPath(), "dannet-train-dry-run-*").Length;
}
