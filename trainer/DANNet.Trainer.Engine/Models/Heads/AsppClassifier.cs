using DANNet.Trainer.Torch;
using TorchSharp;
using DANNet.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Heads;

/// <summary>DeepLab-v2's ASPP classifier: parallel dilated 3x3 convs straight to class logits, summed.</summary>
internal sealed class AsppClassifier : Module<Tensor, Tensor>, IOnnxEmitter
{
    private readonly ModuleList<Conv2d> conv2d_list;

    public AsppClassifier(long inplanes, IReadOnlyList<long> dilations, int numClasses) : base(nameof(AsppClassifier))
    {
        conv2d_list = new ModuleList<Conv2d>(dilations.Select(d => Conv2d(inplanes, numClasses, 3, padding: d, dilation: d, bias: true)).ToArray());
        using (no_grad())
            foreach (var conv in conv2d_list) init.normal_(conv.weight!, 0, 0.01);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var sum = conv2d_list[0].call(x);
        for (int i = 1; i < conv2d_list.Count; i++) sum = sum.Plus(conv2d_list[i].call(x));
        return sum.MoveToOuterDisposeScope();
    }

    public string EmitOnnx(OnnxGraph g, string x)
    {
        string? sum = null;
        for (int i = 0; i < conv2d_list.Count; i++)
        {
            using var scope = g.Scope($"conv2d_list.{i}");
            var y = LayerEmitter.Emit(g, conv2d_list[i], x);
            sum = sum is null ? y : g.Add(sum, y);
        }
        return sum!;
    }
}
