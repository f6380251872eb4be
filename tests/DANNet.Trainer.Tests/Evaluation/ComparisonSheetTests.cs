using DANNet.Trainer.Evaluation;
using DANNet.Trainer.Losses;
using DANNet.Trainer.Models;
using OpenCvSharp;

namespace DANNet.Trainer.Tests.Evaluation;

public sealed class ComparisonSheetTests
{
    [Fact]
    public void A_sheet_has_a_title_row_and_one_row_per_image_with_a_column_per_model_and_the_label()
    {
        using var nets = DannetNets.Create(ArchitectureSpec.Parse("pspnet-r18-w0.25-l4"), relighting: true, withDiscriminators: false);
        var settings = new InferenceSettings(64, 96, ClassWeights.CityscapesFrequencies);
        using var night = new Mat(90, 160, MatType.CV_8UC3, new Scalar(10, 12, 20));
        using var day = new Mat(90, 160, MatType.CV_8UC3, new Scalar(120, 130, 140));
        using var label = new Mat(90, 160, MatType.CV_8UC1, Scalar.All(0));
        var images = new[] { new ComparedImage("night", night, label), new ComparedImage("day", day, null) };
        using var sheet = ComparisonSheet.Draw(images, [ComparedModel.Of("a", nets, settings), ComparedModel.Of("b", nets, settings)], tileWidth: 80);

        Assert.Equal(80 * 5, sheet.Width);              // input, brightened, a, b, label
        Assert.Equal(28 + 2 * 45, sheet.Height);         // titles + two rows at the image's aspect
        // The label column is road (trainId 0, purple) for the first image and empty for the second.
        Assert.Equal(new Vec3b(128, 64, 128), sheet.At<Vec3b>(28 + 20, 4 * 80 + 40));
        Assert.Equal(new Vec3b(0, 0, 0), sheet.At<Vec3b>(28 + 45 + 20, 4 * 80 + 40));
        // The brightened tile is brighter than the input tile.
        Assert.True(sheet.At<Vec3b>(28 + 20, 80 + 40).Item2 > sheet.At<Vec3b>(28 + 20, 40).Item2 + 30);
    }
}
