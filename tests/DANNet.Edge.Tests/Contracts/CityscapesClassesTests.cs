using DANNet.Edge.Contracts;

namespace DANNet.Edge.Tests.Contracts;

/// <summary>
/// The class table restated from the method description on purpose: sharing the table would make
/// these checks pass whatever it said.
/// </summary>
public sealed class CityscapesClassesTests
{
    [Fact]
    public void TrainIds_labelIds_and_names_are_those_of_Cityscapes()
    {
        int[] labelIds = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33];
        string[] names = ["road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign", "vegetation", "terrain", "sky",
            "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"];
        Assert.Equal(19, CityscapesClasses.Count);
        Assert.Equal(Enumerable.Range(0, 19), CityscapesClasses.All.Select(c => (int)c.TrainId));
        Assert.Equal(labelIds, CityscapesClasses.All.Select(c => (int)c.LabelId));
        Assert.Equal(names, CityscapesClasses.Names);
    }

    [Fact]
    public void Palette_is_the_Cityscapes_palette()
    {
        (int, int, int)[] palette = [(128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153), (153, 153, 153), (250, 170, 30),
            (220, 220, 0), (107, 142, 35), (152, 251, 152), (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100), (0, 80, 100), (0, 0, 230), (119, 11, 32)];
        Assert.Equal(palette, CityscapesClasses.All.Select(c => ((int)c.Color.R, (int)c.Color.G, (int)c.Color.B)));
        Assert.Equal(CityscapesClasses.All.Select(c => c.Color), CityscapesClasses.Palette);
        var lut = DANNet.Model.Scoring.MaskColours.Table(CityscapesClasses.Palette);
        Assert.Equal(768, lut.Length);
        Assert.Equal([32, 11, 119], lut.AsSpan(18 * 3, 3).ToArray());   // BGR
        Assert.Equal([0, 0, 0], lut.AsSpan(255 * 3, 3).ToArray());
        Assert.Equal("#dc143c", CityscapesClasses.ByTrainId(11).Color.ToString());
    }

    [Fact]
    public void The_eleven_static_classes_are_road_to_sky()
    {
        Assert.Equal(11, CityscapesClasses.StaticCount);
        Assert.Equal(Enumerable.Range(0, 11), CityscapesClasses.All.Where(c => c.IsStatic).Select(c => (int)c.TrainId));
    }

    [Fact]
    public void Label_maps_cover_every_byte()
    {
        var toTrain = CityscapesClasses.LabelIdToTrainId;
        var toLabel = CityscapesClasses.TrainIdToLabelId;
        Assert.Equal(256, toTrain.Length);
        Assert.Equal(0, toTrain[7]);
        Assert.Equal(18, toTrain[33]);
        Assert.Equal(255, toTrain[0]);
        Assert.Equal(255, toTrain[1]);
        Assert.Equal(255, toTrain[255]);
        for (int t = 0; t < 19; t++) Assert.Equal(t, toTrain[toLabel[t]]);
        Assert.Equal(255, toLabel[19]);
        Assert.True(CityscapesClasses.IsKnownLabelId(0));
        Assert.True(CityscapesClasses.IsKnownLabelId(33));
        Assert.True(CityscapesClasses.IsKnownLabelId(255));
        Assert.False(CityscapesClasses.IsKnownLabelId(34));
        Assert.False(CityscapesClasses.IsKnownLabelId(254));
        Assert.Throws<ArgumentOutOfRangeException>(() => CityscapesClasses.ByTrainId(19));
    }

    [Fact]
    public void Model_contract_names_and_normalisation()
    {
        Assert.Equal("image", ModelContract.ImageInput);
        Assert.Equal("mask", ModelContract.MaskOutput);
        Assert.Equal([0.485f, 0.456f, 0.406f], ModelContract.MeanRgb);
        Assert.Equal([0.229f, 0.224f, 0.225f], ModelContract.StdRgb);
    }
}
