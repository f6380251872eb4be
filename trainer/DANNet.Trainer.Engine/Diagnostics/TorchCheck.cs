using DANNet.Trainer.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Diagnostics;

/// <summary>Outcome of <see cref="TorchCheck.TrainTinyNet"/>.</summary>
public sealed record TrainStepReport(string TorchVersion, int Threads, float LossBefore, float LossAfter, double MaxWeightChange);

/// <summary>
/// Proves the native TorchSharp/libtorch stack loads on this machine and trains: a tiny conv net
/// takes SGD steps on a fixed random batch, and the loss and the weights must move.
/// </summary>
public static class TorchCheck
{
    public static TrainStepReport TrainTinyNet(int steps = 3, long seed = 0)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(seed);
        var net = nn.Sequential(
            ("conv1", nn.Conv2d(3, 8, 3, padding: 1)),
            ("relu1", nn.ReLU()),
            ("conv2", nn.Conv2d(8, 19, 1)));
        var x = randn(2, 3, 16, 16);
        var y = randint(0, 19, [2, 16, 16], dtype: int64);
        var before = net.parameters().Select(p => p.detach().clone()).ToList();
        var optimizer = new StableSgd(net.parameters(), 0.1, momentum: 0.9);
        var lossFn = nn.CrossEntropyLoss(ignore_index: 255);

        float first = 0, last = 0;
        for (int i = 0; i < steps; i++)
        {
            optimizer.zero_grad();
            var loss = lossFn.call(net.call(x), y);
            loss.backward();
            optimizer.step();
            float value = loss.item<float>();
            if (i == 0) first = value;
            last = value;
        }
        using (no_grad())
        {
            float after = lossFn.call(net.call(x), y).item<float>();
            double change = net.parameters().Zip(before, (p, b) => (p - b).abs().max().item<float>()).Max();
            return new TrainStepReport(__version__, get_num_threads(), first, after, change);
        }
    }

    /// <summary>
    /// A 3x3 convolution's forward and backward on <paramref name="device"/> (2x3x16x16 in, 8 channels out): the first kernels a
    /// training step needs, so a GPU this libtorch has no kernels for, or a broken driver, shows up here rather than in a run.
    /// Returns the gradient's norm (finite when it worked); libtorch's failure is thrown as it comes (<see cref="TorchErrors"/> words it).
    /// </summary>
    public static double ConvForwardBackward(Device device)
    {
        using var scope = NewDisposeScope();
        var conv = nn.Conv2d(3, 8, 3, padding: 1).to(device);
        var x = ones(2, 3, 16, 16, device: device);
        var y = conv.call(x);
        y.mul(y).mean().backward();
        double norm = conv.weight!.grad!.norm().item<float>();
        if (!double.IsFinite(norm)) throw new InvalidOperationException($"{device}: a convolution's gradient came out {norm}.");
        return norm;
    }
}
