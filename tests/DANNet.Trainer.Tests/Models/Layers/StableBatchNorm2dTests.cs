using DANNet.Trainer.Models.Layers;
using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Models.Layers;

[Collection(SerialCollection.Name)]
public sealed class StableBatchNorm2dTests
{
    [Fact]
    public void Behaves_like_TorchSharps_BatchNorm2d_in_training_and_eval_with_the_same_keys()
    {
        using var scope = NewDisposeScope();
        var ours = new StableBatchNorm2d(4);
        var theirs = nn.BatchNorm2d(4);
        Assert.Equal(theirs.state_dict().Keys.Order(), ours.state_dict().Keys.Order());
        using (no_grad())
        {
            theirs.weight!.copy_(tensor(new float[] { 0.5f, 1, 1.5f, 2 }));
            ours.weight!.copy_(theirs.weight);
        }
        manual_seed(4);
        for (int i = 0; i < 3; i++)
        {
            using var s = new ScalarScope();
            var x = randn(2, 4, 5, 6).mul(s[i + 1]).Plus(s[i]);
            Assert.True(ours.call(x).allclose(theirs.call(x), rtol: 1e-5, atol: 1e-6));
        }
        Assert.Equal(3L, ours.num_batches_tracked!.item<long>());
        Assert.True(ours.running_mean!.allclose(theirs.running_mean!, rtol: 1e-5, atol: 1e-6));
        Assert.True(ours.running_var!.allclose(theirs.running_var!, rtol: 1e-5, atol: 1e-6));

        ours.eval();
        theirs.eval();
        var y = randn(1, 4, 3, 3);
        Assert.True(ours.call(y).allclose(theirs.call(y), rtol: 1e-5, atol: 1e-6));
        Assert.Equal(3L, ours.num_batches_tracked.item<long>());
        Assert.Throws<ArgumentException>(() => ours.call(randn(4, 3)));
    }
}
