using OpenCvSharp;

namespace DANNet.Trainer.Data;

/// <summary>An image (8-bit BGR) with its trainId mask (8-bit, 0..18 or 255), same size.</summary>
public sealed class LabelledImage(Mat image, Mat trainIds, string name) : IDisposable
{
    public Mat Image { get; } = image;
    public Mat TrainIds { get; } = trainIds;
    public string Name { get; } = name;

    public void Dispose()
    {
        Image.Dispose();
        TrainIds.Dispose();
    }
}
