using DANNet.Model.IO;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Data;
using DANNet.Trainer.IO;
using DANNet.Trainer.Torch;
using OpenCvSharp;
using Size = OpenCvSharp.Size;
using Device = TorchSharp.torch.Device;
using static TorchSharp.torch;

namespace DANNet.Trainer.Training;

/// <summary>
/// A batch of labelled images: N×3×H×W normalised float and N×H×W trainIds (255 ignored) — uint8 as the sampler makes them on the host
/// (an eighth of int64's bytes to copy), int64 once on the training device (<see cref="To"/>), as the losses take them.
/// </summary>
public sealed record LabelledBatch(Tensor Images, Tensor Labels) : IDisposable
{
    public void Dispose() { Images.Dispose(); Labels.Dispose(); }

    /// <summary>
    /// This batch on <paramref name="device"/> with int64 labels (itself when it is so already; else a copy, and this one is disposed).
    /// Pinned host tensors (<see cref="Pinned"/>) are copied without waiting.
    /// </summary>
    public LabelledBatch To(Device device)
    {
        if (TrainingDevice.IsOn(Images, device))
        {
            if (Labels.dtype == ScalarType.Int64) return this;
            var widened = Labels.to(ScalarType.Int64);
            Labels.Dispose();
            return this with { Labels = widened }; // the images are already where they belong
        }
        bool async = device.type == TorchSharp.DeviceType.CUDA;
        using var labels = Labels.to(device, non_blocking: async);
        var moved = new LabelledBatch(Images.to(device, non_blocking: async), labels.to(ScalarType.Int64));
        Dispose();
        return moved;
    }

    /// <summary>This batch in page-locked host memory, so that the copy to a GPU can overlap the computation (CUDA only; disposes this one).</summary>
    public LabelledBatch Pinned()
    {
        var pinned = new LabelledBatch(Images.pin_memory(), Labels.pin_memory());
        Dispose();
        return pinned;
    }
}

/// <summary>A batch of day/night pairs, both N×3×S×S normalised float, with the same augmentation per pair.</summary>
public sealed record PairBatch(Tensor Day, Tensor Night) : IDisposable
{
    public void Dispose() { Day.Dispose(); Night.Dispose(); }

    /// <summary>This batch on <paramref name="device"/> (itself when it is there already; else a copy, and this one is disposed).</summary>
    public PairBatch To(Device device)
    {
        if (TrainingDevice.IsOn(Day, device)) return this;
        bool async = device.type == TorchSharp.DeviceType.CUDA;
        var moved = new PairBatch(Day.to(device, non_blocking: async), Night.to(device, non_blocking: async));
        Dispose();
        return moved;
    }

    /// <summary>This batch in page-locked host memory (CUDA only; disposes this one).</summary>
    public PairBatch Pinned()
    {
        var pinned = new PairBatch(Day.pin_memory(), Night.pin_memory());
        Dispose();
        return pinned;
    }
}

/// <summary>
/// Labelled batches with the reference augmentation (random scale, random crop padded with ignore,
/// horizontal flip). Batch <c>k</c> depends only on (seed, k): a resumed run sees the same data.
/// </summary>
public sealed class LabelledSampler(IReadOnlyList<LabelledSample> samples, double scaleMin, double scaleMax, int crop, bool flip, ulong seed)
{
    public LabelledBatch Next(long iteration, int batchSize)
    {
        var rng = new StreamRandom(seed, 0x5A, (ulong)iteration);
        var images = new List<Mat>();
        var labels = new List<Mat>();
        try
        {
            for (int b = 0; b < batchSize; b++)
            {
                using var sample = samples[rng.Int(0, samples.Count)].Load();
                double scale = rng.Uniform(scaleMin, scaleMax);
                using var image = Augment.Resize(sample.Image, scale, InterpolationFlags.Linear);
                using var label = Augment.Resize(sample.TrainIds, scale, InterpolationFlags.Nearest);
                using var paddedImage = Augment.PadTo(image, crop, crop, Scalar.All(0));
                using var paddedLabel = Augment.PadTo(label, crop, crop, Scalar.All(CityscapesClasses.Ignore));
                int x = rng.Int(0, paddedImage.Cols - crop + 1), y = rng.Int(0, paddedImage.Rows - crop + 1);
                bool mirror = flip && rng.Chance(0.5);
                images.Add(Augment.CropFlip(paddedImage, new Rect(x, y, crop, crop), mirror));
                labels.Add(Augment.CropFlip(paddedLabel, new Rect(x, y, crop, crop), mirror));
            }
            return new LabelledBatch(ImageTensors.Stack(images), ImageTensors.StackLabelBytes(labels));
        }
        finally
        {
            foreach (var m in images.Concat(labels)) m.Dispose();
        }
    }
}

/// <summary>
/// Day/night pair batches as in the reference: the same random scale, square crop and flip for the
/// two images of a pair, then resized to the training size. The crop is the configured size or the
/// shorter image side, whichever is smaller.
/// </summary>
public sealed class PairSampler(IReadOnlyList<DayNightPair> pairs, AugmentConfig augment, ulong seed)
{
    public PairBatch Next(long iteration, int batchSize)
    {
        var rng = new StreamRandom(seed, 0xDA, (ulong)iteration);
        var days = new List<Mat>();
        var nights = new List<Mat>();
        try
        {
            for (int b = 0; b < batchSize; b++)
            {
                var pair = pairs[rng.Int(0, pairs.Count)];
                using var nightRaw = ReadPairImage(pair.NightPath);
                using var dayRaw = ReadPairImage(pair.DayPath);
                using var dayAligned = dayRaw.Size() == nightRaw.Size() ? dayRaw.Clone() : dayRaw.Resize(nightRaw.Size(), 0, 0, InterpolationFlags.Linear);
                double scale = rng.Uniform(augment.TargetScaleMin, augment.TargetScaleMax);
                using var night = Augment.Resize(nightRaw, scale, InterpolationFlags.Linear);
                using var day = Augment.Resize(dayAligned, scale, InterpolationFlags.Linear);
                int crop = Math.Min(augment.TargetCrop, Math.Min(night.Rows, night.Cols));
                int x = rng.Int(0, night.Cols - crop + 1), y = rng.Int(0, night.Rows - crop + 1);
                bool mirror = augment.Flip && rng.Chance(0.5);
                var size = new Size(augment.TargetResize, augment.TargetResize);
                using var nightCrop = Augment.CropFlip(night, new Rect(x, y, crop, crop), mirror);
                using var dayCrop = Augment.CropFlip(day, new Rect(x, y, crop, crop), mirror);
                nights.Add(nightCrop.Resize(size, 0, 0, InterpolationFlags.Linear));
                days.Add(dayCrop.Resize(size, 0, 0, InterpolationFlags.Linear));
            }
            return new PairBatch(ImageTensors.Stack(days), ImageTensors.Stack(nights));
        }
        finally
        {
            foreach (var m in days.Concat(nights)) m.Dispose();
        }
    }

    private static Mat ReadPairImage(string path)
    {
        try { return ImageFiles.ReadColor(path); }
        catch (Exception ex) when (ex is IOException or InvalidDataException) { throw new DatasetException(ex.Message, ex); }
    }
}

/// <summary>OpenCV steps of the augmentation.</summary>
public static class Augment
{
    public static Mat Resize(Mat m, double scale, InterpolationFlags interpolation) =>
        m.Resize(new Size(Math.Max(1, (int)Math.Round(m.Cols * scale)), Math.Max(1, (int)Math.Round(m.Rows * scale))), 0, 0, interpolation);

    /// <summary>Pads bottom/right with <paramref name="value"/> up to at least <paramref name="h"/>×<paramref name="w"/>.</summary>
    public static Mat PadTo(Mat m, int h, int w, Scalar value)
    {
        int padH = Math.Max(0, h - m.Rows), padW = Math.Max(0, w - m.Cols);
        var result = new Mat();
        Cv2.CopyMakeBorder(m, result, 0, padH, 0, padW, BorderTypes.Constant, value);
        return result;
    }

    public static Mat CropFlip(Mat m, Rect roi, bool mirror)
    {
        using var view = new Mat(m, roi);
        var result = new Mat();
        if (mirror) Cv2.Flip(view, result, FlipMode.Y);
        else view.CopyTo(result);
        return result;
    }
}
