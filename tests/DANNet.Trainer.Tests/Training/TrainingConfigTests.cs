using DANNet.Trainer.Training;

namespace DANNet.Trainer.Tests.Training;

public sealed class TrainingConfigTests
{
    [Fact]
    public void Defaults_are_the_reference_recipe()
    {
        var c = TrainingConfigLoader.Load(null, []);
        Assert.Equal(TrainingMode.Dannet, c.Mode);
        Assert.Equal("pspnet-r101", c.Model.Architecture);
        Assert.Equal(2.5e-4, c.Optim.GeneratorLr);
        Assert.Equal(1e-4, c.Optim.DiscriminatorLr);
        Assert.Equal(0.9, c.Optim.Power);
        Assert.Equal(2, c.Optim.BatchSize);
        Assert.Equal(512, c.Augment.SourceCrop);
        Assert.Equal(960, c.Augment.TargetCrop);
        Assert.Equal(0.01, c.Loss.AdversarialWeight);
        Assert.Equal(1.0, c.Loss.StaticWeight);
    }

    [Fact]
    public void A_json_file_then_overrides_then_relative_paths_resolved_against_the_file()
    {
        string dir = Path.Combine(Path.GetTempPath(), "dannet-tests", "cfg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string file = Path.Combine(dir, "run.json");
            File.WriteAllText(file, """
                {
                  // comments are allowed
                  "mode": "SourceOnly",
                  "data": { "source": "cs", "target": "dz" },
                  "optim": { "iterations": 100, },
                }
                """);
            var c = TrainingConfigLoader.Load(file, ["optim.iterations=250", "Model.Architecture=pspnet-r18-l16", "loss.useStatic=false"]);
            Assert.Equal(TrainingMode.SourceOnly, c.Mode);
            Assert.Equal(250, c.Optim.Iterations);
            Assert.Equal("pspnet-r18-l16", c.Model.Architecture);
            Assert.False(c.Loss.UseStatic);
            Assert.Equal(Path.Combine(dir, "cs"), c.Data.Source);
            Assert.Equal(Path.Combine(dir, "dz"), c.Data.Target);
            var again = TrainingConfigLoader.Load(file, ["optim.iterations=250", "model.architecture=pspnet-r18-l16", "loss.useStatic=false"]);
            Assert.Equal(TrainingConfigLoader.Hash(c), TrainingConfigLoader.Hash(again));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void The_hash_follows_what_changes_the_run_not_where_files_live()
    {
        var c = TrainingConfigLoader.Load(null, ["data.source=\"/data/a/cityscapes\"", "data.target=\"/data/a/dark_zurich\"", "model.initSegmentation=\"/runs/pre/segmentation.pth\""]);
        var moved = c with
        {
            Data = c.Data with { Source = "/mnt/disk2/cityscapes/", Target = "/mnt/disk2/dark_zurich" },
            Model = c.Model with { InitSegmentation = "/elsewhere/segmentation.pth" },
        };
        Assert.Equal(TrainingConfigLoader.Hash(c), TrainingConfigLoader.Hash(moved));
        Assert.NotEqual(TrainingConfigLoader.Hash(c), TrainingConfigLoader.Hash(c with { Optim = c.Optim with { Iterations = c.Optim.Iterations + 1 } }));
        Assert.NotEqual(TrainingConfigLoader.Hash(c), TrainingConfigLoader.Hash(c with { Data = c.Data with { Source = "/data/a/other_set" } }));
        Assert.NotEqual(TrainingConfigLoader.Hash(c), TrainingConfigLoader.Hash(c with { Model = c.Model with { InitSegmentation = "/runs/pre/other.pth" } }));
    }

    [Theory]
    [InlineData("optim.iteratoins=5", "'iteratoins' is not a field of optim")]
    [InlineData("optim=5", "optim")]
    [InlineData("nothing", "expected section.field=value")]
    [InlineData("optim.iterations=0", "optim.iterations: must be at least 1")]
    [InlineData("model.architecture=unet", "model.architecture")]
    [InlineData("augment.sourceCrop=100", "augment.sourceCrop: must be a multiple of 8")]
    [InlineData("mode=\"Sideways\"", "field $.mode")]
    public void Bad_values_name_the_field(string assignment, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => TrainingConfigLoader.Load(null, [assignment]));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void Unknown_fields_in_a_file_are_refused()
    {
        string file = Path.Combine(Path.GetTempPath(), $"cfg-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, """{ "optim": { "iterationz": 3 } }""");
        try
        {
            var ex = Assert.Throws<ArgumentException>(() => TrainingConfigLoader.Load(file, []));
            Assert.Contains(file, ex.Message);
            Assert.Contains("iterationz", ex.Message);
        }
        finally { File.Delete(file); }
    }
}
