using DANNet.Trainer.Models.Checkpoints;
using DANNet.Trainer.Models.Discriminators;
using DANNet.Trainer.Models.Relighting;
using TorchSharp;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Models;

/// <summary>Loading the reference's PyTorch state dicts and reproducing its outputs.</summary>
public sealed class CheckpointTests
{
    [Fact]
    public void LightNet_from_the_reference_checkpoint_reproduces_the_golden_output()
    {
        using var scope = NewDisposeScope();
        var net = new LightNet();
        var report = Checkpoint.Load(net, ReferenceData.File_("lightnet_seed2.pth"));
        Assert.True(report.IsExact, report.ToString());
        Assert.Equal(68, report.Matched.Count);
        net.eval();
        using (no_grad())
        {
            var r = net.call(ReferenceData.Tensor("lightnet_input"));
            double diff = (r - ReferenceData.Tensor("lightnet_output_r")).abs().max().item<float>();
            Assert.True(diff <= 1e-4, $"max abs diff {diff:E2}");
        }
        net.Dispose();
    }

    [Fact]
    public void Discriminator_from_the_reference_checkpoint_reproduces_the_golden_output()
    {
        using var scope = NewDisposeScope();
        var d = new FcDiscriminator();
        Assert.True(Checkpoint.Load(d, ReferenceData.File_("fc_discriminator_seed3.pth")).IsExact);
        using (no_grad())
        {
            var y = d.call(ReferenceData.Tensor("discriminator_input"));
            var golden = ReferenceData.Tensor("discriminator_output");
            Assert.Equal(golden.shape, y.shape);
            double diff = (y - golden).abs().max().item<float>();
            Assert.True(diff <= 1e-4, $"max abs diff {diff:E2}");
        }
        d.Dispose();
    }

    [Fact]
    public void Strict_load_of_a_checkpoint_of_another_width_names_every_mis_shaped_key_and_changes_nothing()
    {
        using var scope = NewDisposeScope();
        var narrow = new LightNet(ngf: 32);
        var before = narrow.parameters().Select(p => p.detach().clone()).ToList();
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Load(narrow, ReferenceData.File_("lightnet_seed2.pth")));
        Assert.Contains("lightnet_seed2.pth", ex.Message);
        Assert.Contains("mis-shaped: model.1.weight: model [32x3x7x7] Float32, file [64x3x7x7] Float32", ex.Message);
        Assert.Contains("model.20.weight", ex.Message);
        Assert.All(narrow.parameters().Zip(before), pair => Assert.True(pair.First.equal(pair.Second).all().item<bool>()));
        narrow.Dispose();
    }

    [Fact]
    public void Non_strict_load_takes_the_matching_keys_and_reports_the_rest()
    {
        using var scope = NewDisposeScope();
        var d = new FcDiscriminator(numClasses: 18);
        var report = Checkpoint.Load(d, ReferenceData.File_("fc_discriminator_seed3.pth"), strict: false);
        Assert.False(report.IsExact);
        var mismatch = Assert.Single(report.Mismatched);
        Assert.Equal("conv1.weight", mismatch.Key);
        Assert.Equal(9, report.Matched.Count);
        var reference = new FcDiscriminator();
        Checkpoint.Load(reference, ReferenceData.File_("fc_discriminator_seed3.pth"));
        Assert.True(d.state_dict()["classifier.weight"].equal(reference.state_dict()["classifier.weight"]).all().item<bool>());
        d.Dispose(); reference.Dispose();
    }

    [Fact]
    public void Saved_checkpoints_load_back_exactly_and_are_written_atomically()
    {
        using var scope = NewDisposeScope();
        string dir = Path.Combine(Path.GetTempPath(), "dannet-tests", "ckpt-" + Guid.NewGuid().ToString("N"));
        try
        {
            var net = new LightNet(ngf: 8);
            net.eval();
            string path = Path.Combine(dir, "light.pth");
            Checkpoint.Save(net, path);
            Assert.Equal([path], Directory.GetFiles(dir));
            var copy = new LightNet(ngf: 8);
            Assert.True(Checkpoint.Load(copy, path).IsExact);
            copy.eval();
            var x = randn(1, 3, 16, 16);
            using (no_grad()) Assert.True(net.call(x).equal(copy.call(x)).all().item<bool>());
            net.Dispose(); copy.Dispose();
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void Unreadable_or_missing_files_are_named()
    {
        using var net = new FcDiscriminator();
        string missing = Path.Combine(Path.GetTempPath(), "no-such-checkpoint.pth");
        Assert.Contains(missing, Assert.Throws<CheckpointException>(() => Checkpoint.Load(net, missing)).Message);
        string garbage = Path.Combine(Path.GetTempPath(), $"garbage-{Guid.NewGuid():N}.pth");
        File.WriteAllText(garbage, "this is not a pickle");
        try
        {
            var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Load(net, garbage));
            Assert.Contains(garbage, ex.Message);
            Assert.Contains("not a readable PyTorch state dict", ex.Message);
        }
        finally { File.Delete(garbage); }
    }
}
