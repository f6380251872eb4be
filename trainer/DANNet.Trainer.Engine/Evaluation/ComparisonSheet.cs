using DANNet.Model.IO;
using DANNet.Model.Scoring;
using DANNet.Trainer.Data;
using DANNet.Trainer.IO;
using DANNet.Trainer.Models;
using OpenCvSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Evaluation;

/// <summary>One model in a comparison: a column title and how it segments an image (8-bit BGR in, trainIds at the image's size out).</summary>
public sealed record ComparedModel(string Title, Func<Mat, Mat> Segment)
{
    /// <summary>A TorchSharp model run with the evaluation protocol (<see cref="Evaluator.Predict"/>).</summary>
    public static ComparedModel Of(string title, DannetNets nets, InferenceSettings settings) => new(title, image =>
    {
        using var weights = tensor(settings.ClassWeights(), device: nets.Device).view(1, -1, 1, 1);
        using var prediction = Evaluator.Predict(nets, image, settings.Height, settings.Width, weights, image.Rows, image.Cols);
        int h = (int)prediction.shape[^2], w = (int)prediction.shape[^1];
        var mask = new Mat(h, w, MatType.CV_8UC1);
        mask.SetArray(prediction.to(TorchSharp.torch.ScalarType.Byte).flatten().data<byte>().ToArray());
        return mask;
    });
}

/// <summary>One image in a comparison, with its trainId label when it has one.</summary>
public sealed record ComparedImage(string Name, Mat Image, Mat? TrainIds) : IDisposable
{
    public void Dispose()
    {
        Image.Dispose();
        TrainIds?.Dispose();
    }
}

/// <summary>
/// A picture that compares models on images: one row per image — the input, a brightened copy (night
/// images are too dark to read), each model's prediction in the Cityscapes palette, and the label
/// when there is one — under a row of column titles. Predictions follow the evaluation protocol
/// (<see cref="Evaluator.Predict"/>), so a sheet shows what <c>eval</c> scores.
/// </summary>
public static class ComparisonSheet
{
    public static Mat Draw(IReadOnlyList<ComparedImage> images, IReadOnlyList<ComparedModel> models, int tileWidth = 320)
    {
        if (images.Count == 0 || models.Count == 0) throw new ArgumentException("A comparison needs at least one image and one model.");
        bool labels = images.Any(i => i.TrainIds is not null);
        var titles = new List<string> { "input", "input, brightened" };
        titles.AddRange(models.Select(m => m.Title));
        if (labels) titles.Add("label");
        var rows = new List<Mat>();
        try
        {
            foreach (var item in images)
            {
                int tileHeight = (int)Math.Round(tileWidth * (double)item.Image.Rows / item.Image.Cols);
                var tiles = new List<Mat> { Fit(item.Image, tileWidth, tileHeight), Fit(Brighten(item.Image), tileWidth, tileHeight, dispose: true) };
                foreach (var model in models)
                {
                    using var trainIds = model.Segment(item.Image);
                    tiles.Add(Fit(MaskColours.Colorize(trainIds), tileWidth, tileHeight, dispose: true, nearest: true));
                }
                if (labels)
                    tiles.Add(item.TrainIds is null
                        ? new Mat(tileHeight, tileWidth, MatType.CV_8UC3, Scalar.All(0))
                        : Fit(MaskColours.Colorize(item.TrainIds), tileWidth, tileHeight, dispose: true, nearest: true));
                var row = new Mat();
                Cv2.HConcat(tiles.ToArray(), row);
                foreach (var t in tiles) t.Dispose();
                rows.Add(row);
            }
            rows.Insert(0, Header(titles, tileWidth));
            var sheet = new Mat();
            Cv2.VConcat(rows.ToArray(), sheet);
            return sheet;
        }
        finally
        {
            foreach (var r in rows) r.Dispose();
        }
    }

    /// <summary>Night images brightened for the eye: gamma 0.45 on every channel (display only, never fed to a model).</summary>
    public static Mat Brighten(Mat bgr)
    {
        var table = new byte[256];
        for (int i = 0; i < 256; i++) table[i] = (byte)Math.Round(255 * Math.Pow(i / 255.0, 0.45));
        using var lut = Mat.FromPixelData(1, 256, MatType.CV_8UC1, table);
        var result = new Mat();
        Cv2.LUT(bgr, lut, result);
        return result;
    }

    private static Mat Fit(Mat image, int width, int height, bool dispose = false, bool nearest = false)
    {
        var result = image.Resize(new OpenCvSharp.Size(width, height), 0, 0, nearest ? InterpolationFlags.Nearest : InterpolationFlags.Area);
        if (dispose) image.Dispose();
        return result;
    }

    private static Mat Header(IReadOnlyList<string> titles, int tileWidth)
    {
        var header = new Mat(28, tileWidth * titles.Count, MatType.CV_8UC3, Scalar.All(255));
        for (int i = 0; i < titles.Count; i++)
            Cv2.PutText(header, titles[i], new Point(i * tileWidth + 8, 20), HersheyFonts.HersheySimplex, 0.55, Scalar.All(0), 1, LineTypes.AntiAlias);
        return header;
    }

    /// <summary>Writes the sheet as a PNG, atomically.</summary>
    public static void Write(string path, Mat sheet)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        ImageFiles.WritePng(path, sheet);
    }
}
