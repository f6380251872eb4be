using DANNet.Model.Scoring;
using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>Side-by-side pictures of SynthNight frames, labels and the night model, for people to look at.</summary>
public static class PreviewSheets
{
    private const int TileWidth = 480;

    public static Mat Pair(RenderedFrame day, RenderedFrame night)
    {
        using var colour = Colour(night.LabelIds);
        using var overlay = new Mat();
        Cv2.AddWeighted(night.Image, 0.55, colour, 0.45, 0, overlay);
        return Row([("target day (same place)", day.Image), ("target night", night.Image), ("night label", colour), ("night + label", overlay)]);
    }

    public static Mat Source(RenderedFrame source)
    {
        using var colour = Colour(source.LabelIds);
        return Row([("source day (labelled)", source.Image), ("label (trainIds)", colour)]);
    }

    public static Mat NightModel(IReadOnlyList<(string Name, Mat Image)> stages, Mat final) =>
        Row([.. stages, ("+ sensor noise = final", final)]);

    /// <summary>Float 0..1 BGR (a stage of the night model) → 8-bit, clipped.</summary>
    public static Mat ToDisplay(Mat img)
    {
        var bytes = new Mat();
        img.ConvertTo(bytes, MatType.CV_8UC3, 255.0);
        return bytes;
    }

    private static Mat Colour(Mat labelIds)
    {
        using var trainIds = LabelMapping.ToTrainIds(labelIds, "rendered frame");
        return MaskColours.Colorize(trainIds);
    }

    private static Mat Row(IReadOnlyList<(string Caption, Mat Image)> tiles)
    {
        var scaled = new List<Mat>();
        try
        {
            foreach (var (caption, image) in tiles)
            {
                int h = (int)Math.Round(image.Height * (double)TileWidth / image.Width);
                var tile = new Mat();
                Cv2.Resize(image, tile, new Size(TileWidth, h), 0, 0, InterpolationFlags.Area);
                Cv2.Rectangle(tile, new Rect(0, 0, TileWidth, 22), Scalar.All(0), -1);
                Cv2.PutText(tile, caption, new Point(6, 16), HersheyFonts.HersheySimplex, 0.5, Scalar.All(255), 1, LineTypes.AntiAlias);
                scaled.Add(tile);
            }
            var sheet = new Mat();
            Cv2.HConcat(scaled.ToArray(), sheet);
            return sheet;
        }
        finally
        {
            foreach (var m in scaled) m.Dispose();
        }
    }
}
