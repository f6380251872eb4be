using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>A rendered camera image (BGR, 8-bit) and its Cityscapes labelIds (8-bit).</summary>
public sealed class RenderedFrame(Mat image, Mat labelIds) : IDisposable
{
    public Mat Image { get; } = image;
    public Mat LabelIds { get; } = labelIds;

    public void Dispose()
    {
        Image.Dispose();
        LabelIds.Dispose();
    }
}
