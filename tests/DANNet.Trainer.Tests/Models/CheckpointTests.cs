using DANNet.Trainer.Models.Checkpoints;
using DANNet.Trainer.Models.Discriminators;
using DANNet.Trainer.Models.Relighting;
using DANNet.Trainer.Torch;
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

    /// <summary>
    /// The bound is derived, not picked. Our float32 output and the reference's (PyTorch float32 on
    /// another CPU, rounded to 7 significant digits) each differ from the exact result only by
    /// rounding, whatever summation order or vector width the kernels use: a conv output with
    /// fan-in K (plus the bias) is off by at most γ·(|W|·|a| + |b|), γ = (K+1)u/(1 − (K+1)u),
    /// u = 2⁻²⁴, and each LeakyReLU rounds once more (u·|out|). Those local errors reach the output
    /// through the rest of the net; to first order output o moves by at most
    /// Σ |∂y_o/∂z|·(local error of z) over every intermediate z — computed below in float64 with
    /// autograd, one backward pass per output element. Bound = 2 × that (ours and the reference's)
    /// + the golden values' rounding (5e-7 relative). Measured: see the test output.
    /// </summary>
    [Fact]
    public void Discriminator_from_the_reference_checkpoint_reproduces_the_golden_output()
    {
        using var scope = NewDisposeScope();
        string file = ReferenceData.File_("fc_discriminator_seed3.pth");
        var d = new FcDiscriminator();
        Assert.True(Checkpoint.Load(d, file).IsExact);
        Tensor x = ReferenceData.Tensor("discriminator_input"), golden = ReferenceData.Tensor("discriminator_output");
        Tensor y;
        using (no_grad()) y = d.call(x);
        Assert.Equal(golden.shape, y.shape);

        using var s = new ScalarScope();
        var bound = Float32ErrorBound(file, x).mul(s[2]).Plus(golden.to(ScalarType.Float64).abs().mul(s[5e-7]));
        using (no_grad())
        {
            var diff = (y.to(ScalarType.Float64) - golden.to(ScalarType.Float64)).abs();
            double excess = diff.sub(bound).max().item<double>();
            Console.WriteLine($"discriminator vs golden: max abs diff {diff.max().item<double>():E2}; derived float32 bound per element " +
                $"{bound.min().item<double>():E2}..{bound.max().item<double>():E2}");
            Assert.True(excess <= 0, $"max abs diff {diff.max().item<double>():E2} exceeds the derived float32 bound (up to {bound.max().item<double>():E2}) by {excess:E2}");
        }
        d.Dispose();
    }

    /// <summary>First-order worst-case float32 error of the discriminator's forward, per output element (see above).</summary>
    private static Tensor Float32ErrorBound(string checkpoint, Tensor x)
    {
        const double u = 1.0 / (1 << 24);
        using var exact = new FcDiscriminator();
        using var magnitude = new FcDiscriminator();
        Checkpoint.Load(exact, checkpoint);
        Checkpoint.Load(magnitude, checkpoint);
        exact.to(ScalarType.Float64);
        magnitude.to(ScalarType.Float64);
        using var s = new ScalarScope();
        using var slope = FcDiscriminator.NegativeSlope.ToScalar();
        using (no_grad()) foreach (var p in magnitude.parameters()) p.abs_();
        foreach (var p in exact.parameters()) p.requires_grad_(false); // gradients with respect to the intermediates only
        var convs = exact.children().Cast<TorchSharp.Modules.Conv2d>().ToList();
        var absConvs = magnitude.children().Cast<TorchSharp.Modules.Conv2d>().ToList();

        // Forward in float64, keeping every intermediate and its local rounding error.
        var a = x.to(ScalarType.Float64).requires_grad_(true);
        var intermediates = new List<Tensor>();
        var local = new List<Tensor>();
        for (int i = 0; i < convs.Count; i++)
        {
            var w = convs[i].weight!;
            long k = w.shape[1] * w.shape[2] * w.shape[3] + 1;
            using (no_grad()) local.Add(absConvs[i].call(a.detach().abs()).mul(s[k * u / (1 - k * u)]));
            var z = convs[i].call(a);
            intermediates.Add(z);
            if (i == convs.Count - 1) break;
            a = z.leaky_relu(slope);
            intermediates.Add(a);
            using (no_grad()) local.Add(a.detach().abs().mul(s[u]));
        }
        var y = intermediates[^1].flatten();
        var bound = new double[y.shape[0]];
        for (long o = 0; o < y.shape[0]; o++)
        {
            using var step = NewDisposeScope();
            var grads = autograd.grad([y[o]], intermediates, retain_graph: true);
            var total = zeros(1, ScalarType.Float64);
            for (int j = 0; j < grads.Count; j++) total = total.Plus((grads[j].abs() * local[j]).sum());
            bound[o] = total.item<double>();
        }
        return tensor(bound).view_as(intermediates[^1]);
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

    /// <summary>
    /// Round 2, item 6: a .pth whose storages inflate far beyond what the net needs (deflated zeros: kilobytes on disk,
    /// gigabytes in memory) is refused from the archive's directory, before anything is inflated.
    /// </summary>
    [Fact]
    public void A_checkpoint_that_inflates_beyond_the_nets_needs_is_refused_before_reading()
    {
        string dir = Directory.CreateTempSubdirectory("dannet-bomb-").FullName;
        try
        {
            string good = Path.Combine(dir, "light.pth"), bomb = Path.Combine(dir, "bomb.pth");
            using (var net = new LightNet(ngf: 8)) Checkpoint.Save(net, good);
            File.Copy(good, bomb);
            using (var zip = System.IO.Compression.ZipFile.Open(bomb, System.IO.Compression.ZipArchiveMode.Update))
            {
                var data = zip.Entries.First(e => e.FullName.Contains("/data/", StringComparison.Ordinal));
                string name = data.FullName;
                data.Delete();
                using var stream = zip.CreateEntry(name, System.IO.Compression.CompressionLevel.SmallestSize).Open();
                var zeros = new byte[1 << 20];
                for (int i = 0; i < 160; i++) stream.Write(zeros);   // 160 MB inflated; the budget for this net is about 66 MB
            }
            Assert.True(new FileInfo(bomb).Length < 2_000_000);
            using var target = new LightNet(ngf: 8);
            foreach (var read in new Action[] { () => Checkpoint.Inspect(target, bomb), () => Checkpoint.Load(target, bomb) })
            {
                var ex = Assert.Throws<CheckpointException>(read);
                Assert.Contains("refused before reading", ex.Message);
                Assert.Contains(bomb, ex.Message);
            }
            Assert.True(Checkpoint.Load(target, good).IsExact);
        }
        finally { Directory.Delete(dir, true); }
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
