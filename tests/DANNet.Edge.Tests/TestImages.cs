namespace DANNet.Edge.Tests;

/// <summary>Small generated inputs the tests feed sources with.</summary>
internal static class TestImages
{
    /// <summary>A folder <paramref name="dir"/>/images of <paramref name="count"/> 64x48 colour PNGs (0.png, 1.png, …), each a different colour; its path.</summary>
    public static string Folder(string dir, int count = 3)
    {
        string images = Directory.CreateDirectory(Path.Combine(dir, "images")).FullName;
        for (int i = 0; i < count; i++)
        {
            using var image = new OpenCvSharp.Mat(48, 64, OpenCvSharp.MatType.CV_8UC3, new OpenCvSharp.Scalar(20 * i, 40, 60));
            OpenCvSharp.Cv2.ImWrite(Path.Combine(images, $"{i}.png"), image);
        }
        return images;
    }
}
