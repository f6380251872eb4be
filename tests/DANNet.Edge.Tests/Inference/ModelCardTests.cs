using DANNet.Edge.Contracts;
using DANNet.Model;
using DANNet.Model.Onnx;
using Onnx;

namespace DANNet.Edge.Tests.Inference;

/// <summary>The typed model card: the one writer and reader of a model's metadata.</summary>
public sealed class ModelCardTests
{
    private static ModelCard Exported() => new()
    {
        FormatVersion = ModelMetadataKeys.CurrentFormatVersion, Architecture = "pspnet-r18-l16", Head = "pyramid pooling 1,2,3,6", Height = 272, Width = 480,
        Classes = CityscapesClasses.Names, Palette = CityscapesClasses.Palette, Relighting = true, ClassFrequencies = [0.25, 0.125, 0.625],
        ReweightStrength = 0.16, StatedResize = InputResize.Antialiased, Provenance = new ModelProvenance("run/checkpoint-1000", "abc123", "0.1.0+deadbeef"),
        Other = [new("note", "nacht ü")],
    };

    [Fact]
    public void A_card_reads_back_as_it_was_written()
    {
        var card = Exported();
        var metadata = card.ToMetadata();
        var read = ModelCard.FromMetadata(metadata, "m.onnx", 272, 480);
        Assert.Equal(metadata, read.ToMetadata());
        Assert.Equal((card.FormatVersion, card.Architecture, card.Head, card.Height, card.Width, card.Relighting, card.ReweightStrength, card.StatedResize),
            (read.FormatVersion, read.Architecture, read.Head, read.Height, read.Width, read.Relighting, read.ReweightStrength, read.StatedResize));
        Assert.Equal(card.Classes, read.Classes);
        Assert.Equal(card.Palette, read.Palette);
        Assert.Equal(card.ClassFrequencies, read.ClassFrequencies);
        Assert.Equal(card.Provenance, read.Provenance);
        Assert.Equal(card.Other, read.Other);
        Assert.Equal("image uint8 [1,272,480,3] BGR 0..255 NHWC", metadata.Single(kv => kv.Key == ModelMetadataKeys.Input).Value);
        Assert.Equal("0.16", metadata.Single(kv => kv.Key == ModelMetadataKeys.ReweightStrength).Value);
        Assert.DoesNotContain(metadata, kv => kv.Key == ModelMetadataKeys.Precision);   // float32 is the absence of the key
    }

    [Fact]
    public void A_plain_model_gains_only_what_was_added_to_it_and_keeps_its_own_entries()
    {
        var plain = ModelCard.FromMetadata([new("producer", "someone"), new("z", "1")], "plain.onnx");
        Assert.Null(plain.FormatVersion);
        Assert.Equal(CityscapesClasses.Count, plain.Classes.Count);
        Assert.Equal(InputResizes.Unstated, plain.Resize);
        var quantised = plain with { Precision = ModelPrecision.Int8Qdq, Calibration = "method=MinMax" };
        Assert.Equal([new("dannet.precision", "int8-qdq"), new("dannet.calibration", "method=MinMax"), new("producer", "someone"), new("z", "1")],
            quantised.ToMetadata());
        var model = new ModelProto();
        model.MetadataProps.Add(new StringStringEntryProto { Key = "stale", Value = "x" });
        quantised.WriteTo(model);
        Assert.Equal(quantised.ToMetadata(), ModelCard.Of(model, "m.onnx").ToMetadata());
        Assert.DoesNotContain(model.MetadataProps, p => p.Key == "stale");
    }

    [Theory]
    [InlineData("dannet.precision", "int4", "dannet.precision 'int4' is neither float32 nor int8-qdq")]
    [InlineData("dannet.relighting", "yes", "dannet.relighting 'yes' is neither true nor false")]
    [InlineData("dannet.reweight_strength", "NaN", "'NaN' in dannet.reweight_strength is not a finite non-negative number")]
    [InlineData("dannet.class_frequencies", "0.5,-1", "'-1' in dannet.class_frequencies is not a finite non-negative number")]
    [InlineData("dannet.input_height", "0", "dannet.input_height '0' is not an input height (1..16384)")]
    [InlineData("dannet.input_width", "99999", "dannet.input_width '99999' is not an input width (1..16384)")]
    [InlineData("dannet.architecture", "psp\u0007net", "dannet.architecture holds control characters")]
    public void A_malformed_entry_is_one_line_naming_the_file_and_the_key(string key, string value, string message)
    {
        var ex = Assert.Throws<InvalidDataException>(() => ModelCard.FromMetadata([new("dannet.format_version", "1"), new(key, value)], "bad.onnx"));
        Assert.Contains("'bad.onnx'", ex.Message);
        Assert.Contains(message, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }
}

/// <summary>The one TensorProto reader and writer.</summary>
public sealed class TensorProtosTests
{
    [Fact]
    public void Floats_round_trip_through_raw_data_and_float_data()
    {
        float[] values = [1.5f, -2f, 0f, 3.25f, 1e-8f, float.MaxValue];
        var raw = TensorProtos.Create("w", values, [2, 3]);
        Assert.Equal(values, TensorProtos.Floats(raw, "m.onnx").Data);
        Assert.Equal([2L, 3], TensorProtos.Floats(raw, "m.onnx").Shape);
        var listed = new TensorProto { Name = "v", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 3, 2 }, FloatData = { values } };
        Assert.Equal(values, TensorProtos.Floats(listed, "m.onnx").Data);
    }

    [Fact]
    public void A_tensor_that_does_not_fill_its_shape_or_is_not_float_is_refused_naming_it()
    {
        var cases = new (TensorProto Tensor, string Message)[]
        {
            (new TensorProto { Name = "short", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 4 }, RawData = Google.Protobuf.ByteString.CopyFrom(new byte[12]) },
                "holds 12 bytes for 4 floats"),
            (new TensorProto { Name = "few", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 2, 2 }, FloatData = { 1f, 2f } }, "holds 2 floats for shape [2x2]"),
            (new TensorProto { Name = "ints", DataType = (int)TensorProto.Types.DataType.Int8, Dims = { 1 }, RawData = Google.Protobuf.ByteString.CopyFrom(new byte[1]) },
                "is Int8, not float"),
            (new TensorProto { Name = "outside", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 1 }, DataLocation = TensorProto.Types.DataLocation.External },
                "keeps its data in an external file"),
            (new TensorProto { Name = "huge", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 1L << 40, 1L << 40 } }, "larger than an array can hold"),
            (new TensorProto { Name = "negative", DataType = (int)TensorProto.Types.DataType.Float, Dims = { -1 } }, "negative dimension"),
        };
        foreach (var (tensor, message) in cases)
        {
            var ex = Assert.Throws<InvalidDataException>(() => TensorProtos.Floats(tensor, "model.onnx"));
            Assert.Contains($"'{tensor.Name}'", ex.Message);
            Assert.Contains(message, ex.Message);
        }
        Assert.Throws<ArgumentException>(() => TensorProtos.Create("w", [1f, 2f, 3f], [2, 2]));
    }
}
