using DANNet.Model.Onnx;
using DANNet.Trainer.Torch;
using TorchSharp;
using DANNet.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Segmentation;

/// <summary>
/// DeepLab-v2's ASPP classifier: parallel dilated 3x3 convs straight to class logits, the first
/// <see cref="SummedBranches"/> of them summed. Every branch is a parameter (the state-dict keys of
/// the reference name four); the reference's forward returns inside its summing loop, so it sums
/// branches 0 and 1 only (docs/deeplabv2.md) and its trained weights expect that.
/// </summary>
public sealed class AsppClassifier : Module<Tensor, Tensor>, IOnnxEmitter
{
    private readonly ModuleList<Conv2d> conv2d_list;

    public AsppClassifier(long inplanes, IReadOnlyList<long> dilations, int numClasses, int summedBranches) : base(nameof(AsppClassifier))
    {
        if (summedBranches < 1 || summedBranches > dilations.Count)
            throw new ArgumentOutOfRangeException(nameof(summedBranches), summedBranches, $"The ASPP classifier has {dilations.Count} branches: sum 1..{dilations.Count} of them.");
        conv2d_list = new ModuleList<Conv2d>(dilations.Select(d => Conv2d(inplanes, numClasses, 3, padding: d, dilation: d, bias: true)).ToArray());
        using (no_grad())
            foreach (var conv in conv2d_list) init.normal_(conv.weight!, 0, 0.01);
        SummedBranches = summedBranches;
        RegisterComponents();
    }

    /// <summary>How many branches, from the first, the output sums (the others are parameters that get no gradient).</summary>
    public int SummedBranches { get; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var sum = conv2d_list[0].call(x);
        for (int i = 1; i < SummedBranches; i++) sum = sum.Plus(conv2d_list[i].call(x));
        return sum.MoveToOuterDisposeScope();
    }

    public string EmitOnnx(OnnxGraph g, string x)
    {
        string? sum = null;
        for (int i = 0; i < SummedBranches; i++)
        {
            using var scope = g.Scope($"conv2d_list.{i}");
            var y = LayerEmitter.Emit(g, conv2d_list[i], x);
            sum = sum is null ? y : g.Add(sum, y);
        }
        return sum!;
    }
}
