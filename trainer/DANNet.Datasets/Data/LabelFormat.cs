namespace DANNet.Trainer.Data;

/// <summary>What the values of a label image mean.</summary>
public enum LabelFormat
{
    /// <summary>Cityscapes labelIds (0..33), as in <c>*_gtFine_labelIds.png</c> and <c>*_gt_labelIds.png</c>.</summary>
    CityscapesLabelIds,

    /// <summary>trainIds (0..18, 255 ignored), as in <c>*_labelTrainIds.png</c>.</summary>
    TrainIds,
}
