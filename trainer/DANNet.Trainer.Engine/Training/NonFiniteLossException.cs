namespace DANNet.Trainer.Training;

/// <summary>A loss term became NaN or infinite; the run stops and the last good checkpoint stays as it was.</summary>
public sealed class NonFiniteLossException(string term, long iteration, double value)
    : Exception($"Loss term '{term}' is {value} at iteration {iteration}; training stopped. The last checkpoint on disk is the last good state: lower " +
        $"the learning rates or check the data, then resume.")
{
    public string Term { get; } = term;
    public long Iteration { get; } = iteration;
}
