using DANNet.Edge.Configuration;

namespace DANNet.Edge.Tests.Configuration;

public sealed class ExecutionProviderTests
{
    [Fact]
    public void Every_provider_has_one_name_that_parses_back_and_unknown_names_are_errors()
    {
        foreach (var provider in Enum.GetValues<ExecutionProvider>())
            Assert.Equal(provider, ExecutionProviderNames.Parse(provider.Name()));
        Assert.Equal(Enum.GetValues<ExecutionProvider>().Length, ExecutionProviderNames.Names.Distinct().Count());
        Assert.Equal(["tensorrt", "cuda", "cpu"], ExecutionProviderNames.Names);
        Assert.False(ExecutionProvider.Cpu.NeedsGpu());
        Assert.True(ExecutionProvider.TensorRt.NeedsGpu());
        var ex = Assert.Throws<ArgumentException>(() => ExecutionProviderNames.Parse("CUDA"));
        Assert.Contains("use tensorrt, cuda or cpu (lower case)", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ((ExecutionProvider)42).Name());
    }

    [Fact]
    public void An_int8_calibration_table_is_passed_to_tensorrt_as_a_native_cache()
    {
        var options = new ModelOptions { TensorRt = new TensorRtOptions { Int8 = true, Int8CalibrationTable = "/models/m.calib" } };
        var settings = DANNet.Edge.Inference.ExecutionProviders.TensorRtSettings(options);
        Assert.Equal("1", settings["trt_int8_enable"]);
        Assert.Equal("/models/m.calib", settings["trt_int8_calibration_table_name"]);
        // dannet-calibrate writes TensorRT's own format (TRT-<version>-<calibrator> header, hex scales), not ONNX Runtime's flatbuffers.
        Assert.Equal("1", settings["trt_int8_use_native_calibration_table"]);
        var table = DANNet.Calibration.Tables.TensorRtCalibrationCache.Format(new Dictionary<string, float> { ["x"] = 0.5f }, "EntropyCalibration2");
        Assert.StartsWith("TRT-", table);
        Assert.False(DANNet.Edge.Inference.ExecutionProviders.TensorRtSettings(new ModelOptions()).ContainsKey("trt_int8_calibration_table_name"));
    }
}
