using OpenCvSharp;

namespace DANNet.Trainer.Data.SynthNight;

/// <summary>Vertical colour gradients (skies).</summary>
public static class Gradients
{
    /// <summary>
    /// A <paramref name="width"/>×<paramref name="height"/> image going from <paramref name="top"/> at row 0
    /// to <paramref name="bottom"/> at row <paramref name="reach"/> and below, with the easing exponent <paramref name="power"/>.
    /// </summary>
    public static Mat Vertical(int width, int height, MatType type, Scalar top, Scalar bottom, double reach, double power)
    {
        using var column = new Mat(height, 1, MatType.CV_64FC3);
        for (int y = 0; y < height; y++)
        {
            double t = Math.Pow(Math.Clamp(y / reach, 0, 1), power);
            column.Set(y, 0, new Vec3d(top.Val0 + (bottom.Val0 - top.Val0) * t, top.Val1 + (bottom.Val1 - top.Val1) * t, top.Val2 + (bottom.Val2 - top.Val2) * t));
        }
        using var typed = new Mat();
        column.ConvertTo(typed, type);
        var result = new Mat();
        Cv2.Resize(typed, result, new Size(width, height), 0, 0, InterpolationFlags.Nearest);
        return result;
    }
}
