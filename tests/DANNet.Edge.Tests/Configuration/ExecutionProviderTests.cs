using DANNet.Model;
using DANNet.Edge.Configuration;
using DANNet.Edge.Contracts;

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
        var settings = DANNet.Model.ExecutionProviders.TensorRtSettings(options);
        Assert.Equal("1", settings["trt_int8_enable"]);
        Assert.Equal("/models/m.calib", settings["trt_int8_calibration_table_name"]);
        // dannet-calibrate writes TensorRT's own format (TRT-<version>-<calibrator> header, hex scales), not ONNX Runtime's flatbuffers.
        Assert.Equal("1", settings["trt_int8_use_native_calibration_table"]);
        var table = DANNet.Calibration.Tables.TensorRtCalibrationCache.Format(new Dictionary<string, float> { ["x"] = 0.5f }, "EntropyCalibration2");
        Assert.StartsWith("TRT-", table);
        Assert.False(DANNet.Model.ExecutionProviders.TensorRtSettings(new ModelOptions()).ContainsKey("trt_int8_calibration_table_name"));
    }

    [Fact]
    public void A_qdq_model_turns_tensorrt_int8_on_without_a_table()
    {
        var options = new ModelOptions { TensorRt = new TensorRtOptions { Int8 = false, Int8CalibrationTable = "/models/m.calib" } };
        var settings = DANNet.Model.ExecutionProviders.TensorRtSettings(options, qdq: true);
        Assert.Equal("1", settings["trt_int8_enable"]);
        Assert.False(settings.ContainsKey("trt_int8_calibration_table_name"));
        Assert.Equal("0", DANNet.Model.ExecutionProviders.TensorRtSettings(options)["trt_int8_enable"]);
    }

    [Fact]
    public void Model_metadata_is_read_from_the_file_as_onnx_runtime_reads_it_and_malformed_files_are_refused()
    {
        string dir = Directory.CreateTempSubdirectory("dannet-meta-").FullName;
        try
        {
            var model = DANNet.Edge.Tests.Calibration.QdqWriterTests.TinyNet();
            model.MetadataProps.Add(new Onnx.StringStringEntryProto { Key = ModelMetadataKeys.Precision, Value = ModelMetadataKeys.PrecisionInt8Qdq });
            model.MetadataProps.Add(new Onnx.StringStringEntryProto { Key = "note", Value = "nacht ü" });
            string path = Path.Combine(dir, "m.onnx");
            byte[] bytes = Google.Protobuf.MessageExtensions.ToByteArray(model);
            File.WriteAllBytes(path, bytes);
            using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path))
                Assert.Equal(session.ModelMetadata.CustomMetadataMap.OrderBy(kv => kv.Key), DANNet.Model.Onnx.OnnxFileMetadata.Read(path).OrderBy(kv => kv.Key));
            Assert.True(DANNet.Model.ExecutionProviders.IsQdq(path));
            string plain = Path.Combine(dir, "float.onnx");
            File.WriteAllBytes(plain, Google.Protobuf.MessageExtensions.ToByteArray(DANNet.Edge.Tests.Calibration.QdqWriterTests.TinyNet()));
            Assert.False(DANNet.Model.ExecutionProviders.IsQdq(plain));
            Assert.True(DANNet.Model.ExecutionProviders.IsQdq(EdgeDefaults.ModelPath)); // the embedded model is dannet-calibrate's

            // Cut short: an error naming the file, at whichever byte the cut falls.
            foreach (int cut in new[] { 1, bytes.Length / 2, bytes.Length - 3 })
            {
                File.WriteAllBytes(path, bytes[..cut]);
                var ex = Assert.Throws<InvalidDataException>(() => DANNet.Model.Onnx.OnnxFileMetadata.Read(path));
                Assert.Contains(path, ex.Message);
            }
            // A field that claims 2^62 bytes in a 12-byte file: refused, nothing allocated for it.
            File.WriteAllBytes(path, [0x72, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x01, 0x02]);
            Assert.Contains("runs past the end", Assert.Throws<InvalidDataException>(() => DANNet.Model.Onnx.OnnxFileMetadata.Read(path)).Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
