namespace DANNet.Trainer.Data;

/// <summary>The folder layout of a labelled data set.</summary>
public enum DatasetLayout
{
    /// <summary>Dark Zurich: labelled night images of the val or test split.</summary>
    DarkZurich,

    /// <summary>Cityscapes: <c>leftImg8bit/</c> and <c>gtFine/</c>.</summary>
    Cityscapes,
}

/// <summary>Labelled images of a data set in either layout: what eval, compare and dannet-calibrate's --eval score against.</summary>
public static class LabelledSets
{
    /// <summary>The labelled samples of <paramref name="split"/> under <paramref name="root"/>.</summary>
    public static IReadOnlyList<LabelledSample> Load(DatasetLayout layout, string root, string split) => layout == DatasetLayout.Cityscapes
        ? new CityscapesDataset(root, split).Samples
        : DarkZurichDataset.LabelledNight(root, split).Samples;
}
