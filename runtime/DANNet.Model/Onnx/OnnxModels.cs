using Google.Protobuf;
using Onnx;

namespace DANNet.Model.Onnx;

/// <summary>Reading an ONNX model file as protobuf (to check, calibrate or inspect it), with one-line errors naming the file.</summary>
public static class OnnxModels
{
    /// <summary>The largest model file read (protobuf's limit; an exported DANNet model is tens of megabytes).</summary>
    public const long MaxBytes = 2L << 30;

    /// <summary>
    /// The model at <paramref name="path"/>, checked before anything uses it: it exists, is not empty, fits protobuf's 2 GiB, parses, and
    /// holds a graph with nodes. <paramref name="what"/> names the file in errors (e.g. <c>--model '…'</c>).
    /// </summary>
    public static ModelProto Read(string path, string? what = null)
    {
        what ??= $"'{path}'";
        var file = new FileInfo(path);
        if (!file.Exists) throw new FileNotFoundException($"{what} does not exist: export a model with 'dannet-train export'.", path);
        if (file.Length == 0) throw new InvalidDataException($"{what} is empty: export a model with 'dannet-train export'.");
        if (file.Length > MaxBytes) throw new InvalidDataException($"{what} is {file.Length} bytes; models up to {MaxBytes} bytes are read.");
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"{what} is not an ONNX model (protobuf: {ex.Message.ReplaceLineEndings(" ")}).", ex);
        }
        if (model.Graph is null || model.Graph.Node.Count == 0)
            throw new InvalidDataException($"{what} holds no ONNX graph: export a model with 'dannet-train export'.");
        return model;
    }
}
