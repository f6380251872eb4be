using DANNet.Edge.Contracts;
using OpenCvSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Torch;

/// <summary>Camera bytes → the network's input: RGB, ImageNet mean/std normalisation, CHW float.</summary>
public static class ImageTensors
{
    /// <summary>Writes an 8-bit BGR image as normalised RGB CHW floats into <paramref name="chw"/> (3·H·W values).</summary>
    public static unsafe void NormaliseInto(Mat bgr, Span<float> chw)
    {
        int h = bgr.Rows, w = bgr.Cols, plane = h * w;
        if (bgr.Type() != MatType.CV_8UC3 || !bgr.IsContinuous()) throw new ArgumentException("Expected a continuous 8-bit BGR image.", nameof(bgr));
        if (chw.Length < 3 * plane) throw new ArgumentException("Destination too small.", nameof(chw));
        var mean = ModelContract.MeanRgb;
        var std = ModelContract.StdRgb;
        float sr = 1f / (255f * std[0]), sg = 1f / (255f * std[1]), sb = 1f / (255f * std[2]);
        float or = mean[0] / std[0], og = mean[1] / std[1], ob = mean[2] / std[2];
        byte* p = (byte*)bgr.DataPointer;
        for (int i = 0; i < plane; i++, p += 3)
        {
            chw[i] = p[2] * sr - or;
            chw[plane + i] = p[1] * sg - og;
            chw[2 * plane + i] = p[0] * sb - ob;
        }
    }

    /// <summary>Stacks same-size BGR images into an N×3×H×W tensor.</summary>
    public static Tensor Stack(IReadOnlyList<Mat> images)
    {
        int h = images[0].Rows, w = images[0].Cols, per = 3 * h * w;
        var data = new float[images.Count * per];
        for (int i = 0; i < images.Count; i++) NormaliseInto(images[i], data.AsSpan(i * per, per));
        return tensor(data, [images.Count, 3, h, w], device: CPU); // staged on the host whatever the default device
    }

    /// <summary>Stacks same-size trainId masks into an N×H×W int64 tensor.</summary>
    public static Tensor StackLabels(IReadOnlyList<Mat> labels)
    {
        int h = labels[0].Rows, w = labels[0].Cols, per = h * w;
        var data = new long[labels.Count * per];
        for (int i = 0; i < labels.Count; i++)
        {
            labels[i].GetArray(out byte[] bytes);
            for (int j = 0; j < per; j++) data[i * per + j] = bytes[j];
        }
        return tensor(data, [labels.Count, h, w], device: CPU);
    }

    /// <summary>Stacks same-size trainId masks into an N×H×W uint8 tensor on the host (a training batch's labels until they are on the device).</summary>
    public static Tensor StackLabelBytes(IReadOnlyList<Mat> labels)
    {
        int h = labels[0].Rows, w = labels[0].Cols, per = h * w;
        var data = new byte[labels.Count * per];
        for (int i = 0; i < labels.Count; i++)
        {
            labels[i].GetArray(out byte[] bytes);
            bytes.AsSpan(0, per).CopyTo(data.AsSpan(i * per, per));
        }
        return tensor(data, [labels.Count, h, w], device: CPU);
    }
}
