using DANNet.Model;
using DANNet.Model.IO;
using DANNet.Edge.Contracts;
using DANNet.Trainer.Cli;
using DANNet.Trainer.Export;
using DANNet.Trainer.IO;
using DANNet.Trainer.Models;
using DANNet.Trainer.Tests.Export;
using Google.Protobuf;
using OpenCvSharp;

namespace DANNet.Trainer.Tests.Cli;

/// <summary><c>predict --onnx</c>: an exported model run as the car runs it, on folders (recursively) and videos.</summary>
public sealed class PredictCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-predict-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string ExportSmallModel(InputResize resize)
    {
        var architecture = ArchitectureSpec.Parse("pspnet-r18-w0.25-l4");
        var (light, segmentation) = ExportTestNets.Create(architecture, 32, 48);
        var model = DannetExporter.Export(architecture, light, segmentation, ExportOptions.At(32, 48) with { Resize = resize }, new ExportProvenance("test"));
        light.Dispose();
        segmentation.Dispose();
        string path = Path.Combine(_dir, $"small-{InputResizes.Name(resize)}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    private static Mat Picture(int seed, int width = 100, int height = 70)
    {
        var rng = new Random(seed);
        var bytes = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                    bytes[(y * width + x) * 3 + c] = (byte)Math.Clamp((x * (c + 1) + y * (3 - c)) % 256 + rng.Next(-20, 20), 0, 255);
        using var view = Mat.FromPixelData(height, width, MatType.CV_8UC3, bytes);
        return view.Clone();
    }

    [Fact]
    public void Predict_onnx_walks_folders_recursively_and_videos_and_writes_what_the_segmenter_gives()
    {
        string model = ExportSmallModel(InputResize.Area);
        string images = Path.Combine(_dir, "images");
        Directory.CreateDirectory(Path.Combine(images, "night"));
        using (var a = Picture(1)) ImageFiles.WritePng(Path.Combine(images, "night", "a.png"), a);
        using (var b = Picture(2)) ImageFiles.WritePng(Path.Combine(images, "b.png"), b);
        using (var label = new Mat(70, 100, MatType.CV_8UC1, Scalar.All(7))) ImageFiles.WritePng(Path.Combine(images, "night", "a_labelIds.png"), label);
        string video = Path.Combine(_dir, "clip.avi");
        using (var writer = new VideoWriter(video, FourCC.MJPG, 10, new Size(100, 70)))
            for (int i = 0; i < 3; i++)
                using (var frame = Picture(10 + i)) writer.Write(frame);
        string outDir = Path.Combine(_dir, "out");

        Assert.Equal(0, EvalCommands.Predict().Parse(["--onnx", model, "--input", images, video, "--out", outDir]).Invoke());

        string[] expected = ["b", "night/a", "clip/000000", "clip/000001", "clip/000002"];
        var written = Directory.EnumerateFiles(outDir, "*_trainIds.png", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(outDir, f).Replace(Path.DirectorySeparatorChar, '/')[..^"_trainIds.png".Length]).Order(StringComparer.Ordinal);
        Assert.Equal(expected.Order(StringComparer.Ordinal), written);
        Assert.False(File.Exists(Path.Combine(outDir, "night", "a_labelIds_trainIds.png")));   // a one-channel label is not an input

        // Exactly the runtime's segmenter with the model's own resize (area here), at the image's size.
        using var segmenter = new OnnxSegmenter(model);
        Assert.Equal(InputResize.Area, segmenter.Resize);
        using var image = ImageFiles.ReadColor(Path.Combine(images, "night", "a.png"));
        using var direct = segmenter.Segment(image);
        using var predicted = ImageFiles.ReadLabel(Path.Combine(outDir, "night", "a_trainIds.png"));
        Assert.Equal(new Size(100, 70), predicted.Size());
        Assert.Equal(0, Cv2.CountNonZero(direct.NotEquals(predicted)));
    }

    [Fact]
    public void The_models_resize_is_the_default_and_an_explicit_one_wins()
    {
        string stated = ExportSmallModel(InputResize.Linear);
        using (var byDefault = new OnnxSegmenter(stated)) Assert.Equal(InputResize.Linear, byDefault.Resize);
        using (var asked = new OnnxSegmenter(stated, resize: InputResize.Antialiased)) Assert.Equal(InputResize.Antialiased, asked.Resize);
    }

    [Fact]
    public void Onnx_with_checkpoint_options_or_a_missing_input_is_refused_with_the_reason()
    {
        string model = ExportSmallModel(InputResize.Area);
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            Assert.Equal(1, EvalCommands.Predict().Parse(["--onnx", model, "--height", "64", "--input", model, "--out", _dir]).Invoke());
            Assert.Contains("leave out --height", error.ToString());
            string missing = Path.Combine(_dir, "nowhere");
            Assert.Equal(1, EvalCommands.Predict().Parse(["--onnx", model, "--input", missing, "--out", _dir]).Invoke());
            Assert.Contains($"Input '{missing}' is neither a file nor a folder", error.ToString());
            string text = Path.Combine(_dir, "notes.txt");
            File.WriteAllText(text, "x");
            Assert.Equal(1, EvalCommands.Predict().Parse(["--onnx", model, "--input", text, "--out", _dir]).Invoke());
            Assert.Contains("'.txt' is neither an image", error.ToString());
            Assert.Equal(1, EvalCommands.Predict().Parse(["--onnx", model, "--device", "cpu", "--input", model, "--out", _dir]).Invoke());
            Assert.Contains("leave out --device", error.ToString());
            // A checkpoint's nets on a device this machine lacks: refused first, named as the option given.
            string images = Path.Combine(_dir, "one");
            Directory.CreateDirectory(images);
            using (var picture = Picture(3)) Cv2.ImWrite(Path.Combine(images, "a.png"), picture);
            Assert.Equal(1, EvalCommands.Predict().Parse(["--segmentation", Path.Combine(_dir, "none.pth"), "--arch", "pspnet-r18-w0.25-l4",
                "--device", "cuda:7", "--input", images, "--out", _dir]).Invoke());
            Assert.Contains("error: --device cuda:7: ", error.ToString());
        }
        finally { Console.SetError(original); }
    }
}
