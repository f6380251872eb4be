using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Models.Discriminators;

/// <summary>
/// DANNet's output-space discriminator: fully convolutional on the softmax of the upsampled logits,
/// 4x4 convs 19→64→128→256→256→1 with strides 2, 2, 1, 1, 1, padding 1, LeakyReLU(0.2) after the
/// first four. The output is a patch map of real/fake scores (no sigmoid: LSGAN).
/// </summary>
public sealed class FcDiscriminator : Module<Tensor, Tensor>
{
    public const double NegativeSlope = 0.2;
    private static readonly Scalar NegativeSlopeScalar = NegativeSlope.ToScalar();

    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;
    private readonly Conv2d conv4;
    private readonly Conv2d classifier;

    public FcDiscriminator(int numClasses = 19, int ndf = 64) : base(nameof(FcDiscriminator))
    {
        conv1 = Conv2d(numClasses, ndf, 4, stride: 2, padding: 1);
        conv2 = Conv2d(ndf, ndf * 2, 4, stride: 2, padding: 1);
        conv3 = Conv2d(ndf * 2, ndf * 4, 4, stride: 1, padding: 1);
        conv4 = Conv2d(ndf * 4, ndf * 4, 4, stride: 1, padding: 1);
        classifier = Conv2d(ndf * 4, 1, 4, stride: 1, padding: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = conv1.call(x).leaky_relu(NegativeSlopeScalar);
        y = conv2.call(y).leaky_relu(NegativeSlopeScalar);
        y = conv3.call(y).leaky_relu(NegativeSlopeScalar);
        y = conv4.call(y).leaky_relu(NegativeSlopeScalar);
        return classifier.call(y).MoveToOuterDisposeScope();
    }
}
