using DANNet.Trainer.Diagnostics;

namespace DANNet.Trainer.Tests.Diagnostics;

public sealed class TorchCheckTests
{
    [Fact]
    public void TorchSharp_loads_and_a_training_step_changes_the_weights_and_lowers_the_loss()
    {
        var report = TorchCheck.TrainTinyNet(steps: 5);
        Assert.StartsWith("2.", report.TorchVersion);
        Assert.True(report.MaxWeightChange > 1e-4, $"weights moved by only {report.MaxWeightChange}");
        Assert.True(report.LossAfter < report.LossBefore, $"loss {report.LossBefore} -> {report.LossAfter}");
    }
}
