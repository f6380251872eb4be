using DANNet.Edge.Configuration;
using DANNet.Model.Onnx;
using Google.Protobuf;
using OpenCvSharp;

namespace DANNet.Edge.Tests.Validation;

/// <summary>What the validation tests feed: drives cut from the committed night drive, and a second model.</summary>
internal static class ValidationInputs
{
    /// <summary>
    /// The embedded model with the re-weighting's weight of <paramref name="trainId"/> scaled by <paramref name="factor"/> (default: road's
    /// lowered), written to <paramref name="dir"/>/new.onnx: some pixels change class, as a retrained model's would.
    /// </summary>
    public static string Reweighted(string dir, int trainId = 0, float factor = 0.6f)
    {
        var model = OnnxModels.Read(EdgeDefaults.ModelPath);
        var weights = model.Graph.Initializer.Single(t => t.Name == "postprocess.class_weights");
        var (shape, values) = TensorProtos.Floats(weights, "class weights");
        values[trainId] *= factor;
        model.Graph.Initializer[model.Graph.Initializer.IndexOf(weights)] = TensorProtos.Create(weights.Name, values, shape);
        string path = Path.Combine(dir, "new.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    /// <summary>Frames <paramref name="from"/> .. from + count − 1 of the night drive.</summary>
    public static void Frames(int from, int count, Action<int, Mat> each)
    {
        using var capture = new VideoCapture(EdgeDefaults.VideoPath);
        using var frame = new Mat();
        for (int i = 0; i < from + count && capture.Read(frame); i++)
            if (i >= from) each(i - from, frame);
    }

    /// <summary>A recording of night-drive frames (MJPG .avi by default; "mp4v" for an MPEG-4 .mp4).</summary>
    public static string Video(string path, int from, int count, string fourcc = "MJPG")
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var writer = new VideoWriter(path, FourCC.FromString(fourcc), 15, new Size(640, 360));
        Frames(from, count, (_, f) => writer.Write(f));
        return path;
    }

    /// <summary>A folder of night-drive frames as JPEGs (shot_000.jpg, …).</summary>
    public static string Stills(string folder, int from, int count)
    {
        Directory.CreateDirectory(folder);
        Frames(from, count, (i, f) => Cv2.ImWrite(Path.Combine(folder, $"shot_{i:D3}.jpg"), f));
        return folder;
    }
}
