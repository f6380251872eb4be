namespace DANNet.Trainer.Training;

/// <summary>Where a run is: reported after every iteration and evaluation.</summary>
public sealed record TrainingProgress(long Iteration, long Total, IReadOnlyDictionary<string, double> Terms, double ItPerSec, double? LastMeanIoU);

/// <summary>What a finished run produced.</summary>
public sealed record TrainingSummary(long Iterations, string OutDir, string? LastCheckpoint, double? FinalMeanIoU, string? CurvesPng);
