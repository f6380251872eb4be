using DANNet.Model.Onnx;
namespace DANNet.Trainer.Onnx;

/// <summary>
/// A module that writes its own inference-time ONNX nodes — the twin of its <c>forward</c> in eval
/// mode. A new architecture is a new emitter on its module, never a change to the exporter.
/// Training-only parts (dropout, auxiliary heads) emit nothing; BatchNorm is folded into the
/// convolution before it (<see cref="LayerEmitter.ConvBn"/>).
/// </summary>
public interface IOnnxEmitter
{
    /// <summary>Emits the nodes computing this module on <paramref name="input"/>; returns the output value's name.</summary>
    string EmitOnnx(OnnxGraph graph, string input);
}
