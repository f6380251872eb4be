using DANNet.Calibration.Cli;
using DANNet.Calibration.Statistics;
using DANNet.Calibration.Tables;
using DANNet.Edge.Contracts;
using Google.Protobuf;
using OpenCvSharp;

namespace DANNet.Edge.Tests.Calibration;

/// <summary>dannet-calibrate end to end on the tiny net: outputs, bad frames, too few frames, a model without our metadata.</summary>
public sealed class CalibrateCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-calibrate-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Frames(int good, int corrupt)
    {
        string folder = Path.Combine(_dir, "frames");
        Directory.CreateDirectory(folder);
        var random = new Random(9);
        for (int i = 0; i < good; i++)
        {
            using var image = new Mat(30, 40, MatType.CV_8UC3);
            Cv2.Randu(image, new Scalar(0, 0, 0), new Scalar(256, 256, 256));
            Cv2.ImWrite(Path.Combine(folder, $"good{i}.png"), image);
        }
        for (int i = 0; i < corrupt; i++)
        {
            var junk = new byte[100];
            random.NextBytes(junk);
            File.WriteAllBytes(Path.Combine(folder, $"bad{i}.png"), junk);
        }
        return folder;
    }

    private string Model(bool withMetadata)
    {
        var model = QdqWriterTests.TinyNet();
        if (!withMetadata) model.MetadataProps.Clear();
        string path = Path.Combine(_dir, withMetadata ? "tiny.onnx" : "plain.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    [Fact]
    public void Calibrating_writes_the_quantised_model_and_a_cache_that_parses_and_counts_unreadable_frames()
    {
        string model = Model(withMetadata: true), frames = Frames(good: 3, corrupt: 1);
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, CalibrateCommand.Run(model, frames, 3, CalibrationMethod.Percentile, 99.99, InputResize.Area, null, null, output, error));
        string quantised = Path.Combine(_dir, "tiny.int8.onnx"), cache = Path.Combine(_dir, "tiny.calib");
        Assert.True(File.Exists(quantised) && File.Exists(cache));
        Assert.Contains("bad0.png", error.ToString());
        Assert.DoesNotContain("carries no DANNet metadata", error.ToString());
        var (calibrator, _, scales) = TensorRtCalibrationCache.Parse(File.ReadAllText(cache), cache);
        Assert.Equal("EntropyCalibration2", calibrator);
        Assert.Equal(["c1", "c2", "r1", "x"], scales.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.All(scales.Values, s => Assert.True(s > 0));
        // The image tensor is calibrated by its range whatever the method: the same scale as a min-max run gives it.
        string minmaxCache = Path.Combine(_dir, "minmax.calib");
        Assert.Equal(0, CalibrateCommand.Run(model, frames, 3, CalibrationMethod.MinMax, 99.99, InputResize.Area, Path.Combine(_dir, "minmax.onnx"), minmaxCache,
            new StringWriter(), new StringWriter()));
        var minmax = TensorRtCalibrationCache.Parse(File.ReadAllText(minmaxCache), minmaxCache).Scales;
        Assert.Equal(minmax["x"], scales["x"]);
        Assert.Equal("MinMaxCalibration", TensorRtCalibrationCache.Parse(File.ReadAllText(minmaxCache), minmaxCache).Calibrator);
        Assert.DoesNotContain(Directory.EnumerateFiles(_dir), f => f.Contains(".tmp-", StringComparison.Ordinal));
        // The float model's metadata is kept and the calibration is recorded.
        var meta = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(quantised)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal("1", meta[ModelMetadataKeys.FormatVersion]);
        Assert.Equal("int8-qdq", meta[ModelMetadataKeys.Precision]);
        Assert.Contains("method=Percentile percentile=99.99 frames=3 data=frames resize=Area", meta[ModelMetadataKeys.Calibration]);
    }

    [Fact]
    public void Fewer_readable_frames_than_asked_is_an_error_that_says_how_many()
    {
        string model = Model(withMetadata: true), frames = Frames(good: 2, corrupt: 1);
        var ex = Assert.Throws<ArgumentException>(() =>
            CalibrateCommand.Run(model, frames, 5, CalibrationMethod.Entropy, 99.99, InputResize.Area, null, null, new StringWriter(), new StringWriter()));
        Assert.Contains("gave 2 readable frame(s) (1 unreadable); --frames asks for 5", ex.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "tiny.int8.onnx")));
    }

    [Fact]
    public void A_model_without_our_metadata_still_calibrates_with_a_warning()
    {
        string model = Model(withMetadata: false), frames = Frames(good: 2, corrupt: 0);
        var error = new StringWriter();
        Assert.Equal(0, CalibrateCommand.Run(model, frames, 2, CalibrationMethod.MinMax, 99.99, InputResize.Linear, null, null, new StringWriter(), error));
        Assert.Contains("carries no DANNet metadata", error.ToString());
        Assert.StartsWith("TRT-", File.ReadAllText(Path.Combine(_dir, "plain.calib")));
        var missing = Assert.Throws<FileNotFoundException>(() =>
            CalibrateCommand.Run(Path.Combine(_dir, "none.onnx"), frames, 2, CalibrationMethod.MinMax, 99.99, InputResize.Area, null, null, new StringWriter(), new StringWriter()));
        Assert.Contains("none.onnx", missing.Message);
    }
}
