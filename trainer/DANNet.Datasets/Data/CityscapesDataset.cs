namespace DANNet.Trainer.Data;

/// <summary>
/// A labelled split in the Cityscapes layout:
/// <c>leftImg8bit/&lt;split&gt;/&lt;city&gt;/&lt;stem&gt;_leftImg8bit.png</c> with
/// <c>gtFine/&lt;split&gt;/&lt;city&gt;/&lt;stem&gt;_gtFine_labelIds.png</c>. The whole listing is checked
/// when the data set is opened, so a missing label stops a run before training starts.
/// </summary>
public sealed class CityscapesDataset
{
    public const string ImageSuffix = "_leftImg8bit.png";
    public const string LabelSuffix = "_gtFine_labelIds.png";

    public CityscapesDataset(string root, string split)
    {
        Root = root;
        Split = split;
        DatasetPaths.RequireDirectory(root, "Cityscapes root", "a folder holding leftImg8bit/ and gtFine/");
        string images = DatasetPaths.RequireDirectory(Path.Combine(root, "leftImg8bit", split), "Cityscapes image", $"leftImg8bit/{split}/<city>/*{ImageSuffix}");
        string labels = DatasetPaths.RequireDirectory(Path.Combine(root, "gtFine", split), "Cityscapes label", $"gtFine/{split}/<city>/*{LabelSuffix}");

        Samples = DatasetPaths.LabelledImages(images, ImageSuffix, labels, LabelSuffix, "Image", "city");
    }

    public string Root { get; }
    public string Split { get; }
    public IReadOnlyList<LabelledSample> Samples { get; }
}
