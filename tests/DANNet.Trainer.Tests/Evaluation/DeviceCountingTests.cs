using DANNet.Edge.Contracts;
using DANNet.Trainer.Evaluation;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Evaluation;

/// <summary>Evaluation counts class pairs where the prediction is and brings back only the counts: the same matrix as counting on the host.</summary>
public sealed class DeviceCountingTests
{
    [Fact]
    public void Counting_on_the_device_gives_the_host_counts_exactly_with_ignored_labels_left_out()
    {
        var random = new Random(7);
        var labels = new long[3 * 17 * 23];
        var predictions = new long[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i] = random.Next(10) == 0 ? 255 : random.Next(19);
            predictions[i] = random.Next(19);
        }
        var onHost = new ConfusionMatrix();
        onHost.Add(labels, predictions);
        var counted = new ConfusionMatrix();
        using (var l = tensor(labels, [3, 17, 23], device: CPU).to(ScalarType.Byte))
        using (var p = tensor(predictions, [3, 17, 23], device: CPU))
            counted.AddCounted(l, p);
        Assert.Equal(onHost.Counts(), counted.Counts());
        Assert.Equal(labels.Count(v => v != 255), counted.Total);
    }
}
