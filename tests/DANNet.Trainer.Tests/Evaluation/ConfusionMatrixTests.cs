using DANNet.Edge.Contracts;
using DANNet.Trainer.Evaluation;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Evaluation;

public sealed class ConfusionMatrixTests
{
    [Fact]
    public void IoU_and_mIoU_match_a_hand_computed_case()
    {
        // 3 classes. Truth row 0: 4 pixels right, 1 predicted as 1. Row 1: 2 right, 2 predicted as 2.
        // Row 2: 3 right. IoU0 = 4/(4+1+0) = 0.8; IoU1 = 2/(2+2+1) = 0.4; IoU2 = 3/(3+0+2) = 0.6.
        var m = new ConfusionMatrix(3);
        m.Add(0, 0, 4); m.Add(0, 1, 1);
        m.Add(1, 1, 2); m.Add(1, 2, 2);
        m.Add(2, 2, 3);
        Assert.Equal([0.8, 0.4, 0.6], m.IoU().Select(v => Math.Round(v, 12)));
        Assert.Equal(0.6, m.MeanIoU(), 12);
    }

    [Fact]
    public void Tensors_are_counted_with_255_ignored_and_absent_classes_skipped_in_the_mean()
    {
        using var scope = NewDisposeScope();
        var m = new ConfusionMatrix(19);
        var labels = tensor(new long[] { 0, 0, 1, 255, 255, 1 });
        var preds = tensor(new long[] { 0, 1, 1, 5, 0, 1 });
        m.Add(labels, preds);
        Assert.Equal(1, m[0, 0]);
        Assert.Equal(1, m[0, 1]);
        Assert.Equal(2, m[1, 1]);
        Assert.Equal(0, m[0, 5]);
        var iou = m.IoU();
        Assert.Equal(0.5, iou[0], 12);          // 1 / (1 + 0 + 1)
        Assert.Equal(2.0 / 3, iou[1], 12);      // 2 / (2 + 1 + 0)
        Assert.True(double.IsNaN(iou[5]));      // never labelled nor predicted (the 255 pixel does not count)
        Assert.Equal((0.5 + 2.0 / 3) / 2, m.MeanIoU(), 12);
        string csv = m.ToCsv();
        Assert.StartsWith("truth\\predicted,road,sidewalk,", csv);
        Assert.Contains("\nroad,1,1,0", csv);
    }
}
