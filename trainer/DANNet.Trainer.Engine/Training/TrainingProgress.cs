namespace DANNet.Trainer.Training;

/// <summary>What a run is doing when it reports.</summary>
public enum TrainingPhase
{
    /// <summary>Iterating; <see cref="TrainingProgress.Iteration"/> iterations are done.</summary>
    Training,

    /// <summary>Evaluating on the night val set; <see cref="TrainingProgress.Evaluated"/> of its images are done.</summary>
    Evaluating,

    /// <summary>Finished.</summary>
    Done,
}

/// <summary>
/// Where a run is: reported after every iteration and every evaluated image. <see cref="ItPerSec"/> is over a sliding window
/// (<see cref="TrainingClock"/>), <see cref="Eta"/> the time to the end of the run (null until known), evaluations included
/// except <see cref="EtaLeavesOut"/> of them (those ahead before one has been timed).
/// <see cref="Note"/> is a one-off remark for the log, such as what made the first iteration slow.
/// </summary>
public sealed record TrainingProgress(long Iteration, long Total, IReadOnlyDictionary<string, double> Terms, double ItPerSec, double? LastMeanIoU)
{
    public TrainingPhase Phase { get; init; } = TrainingPhase.Training;
    public TimeSpan? Eta { get; init; }
    public long EtaLeavesOut { get; init; }
    public (int Done, int Total) Evaluated { get; init; }
    public string? Note { get; init; }
}

/// <summary>What a finished run produced, and how long its iterations and evaluations took.</summary>
public sealed record TrainingSummary(long Iterations, string OutDir, string? LastCheckpoint, double? FinalMeanIoU, string? CurvesPng)
{
    /// <summary>Each iteration of this invocation, in seconds (data loading included).</summary>
    public IReadOnlyList<double> IterationSeconds { get; init; } = [];

    /// <summary>The seconds one night val image took to evaluate (the mean over the images evaluated), when any was.</summary>
    public double? EvaluationSecondsPerImage { get; init; }

    /// <summary>Night val images per evaluation (0 without a val set), and how many evaluations the whole run makes.</summary>
    public int ValidationImages { get; init; }

    public int Evaluations { get; init; }
}
