using DANNet.Trainer.Models;
using DANNet.Trainer.Models.Checkpoints;
using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Torch;
using DANNet.Trainer.Training;
using TorchSharp;

namespace DANNet.Trainer.Tests.Training;

/// <summary>The device option: parsed and validated, resolved at start, carried through a run. Adapts to the machine: with CUDA it trains there.</summary>
[Collection(TinySynthNightCollection.Name)]
public sealed class DeviceTests(TinySynthNightFixture data)
{
    [Theory]
    [InlineData("cpu", true)]
    [InlineData("auto", true)]
    [InlineData("cuda", true)]
    [InlineData("cuda:1", true)]
    [InlineData("gpu", false)]
    [InlineData("cuda:", false)]
    [InlineData("CPU ", false)]
    public void Device_names_are_checked_with_the_config(string device, bool valid)
    {
        Assert.Equal(valid, TrainingDevice.IsValid(device));
        if (!valid)
        {
            var ex = Assert.Throws<ArgumentException>(() => TrainingConfigLoader.Load(null, [$"run.device=\"{device}\""]));
            Assert.Contains("run.device: must be cpu, cuda, cuda:N or auto", ex.Message);
        }
    }

    [Fact]
    public void The_device_is_not_part_of_the_config_hash_so_a_run_resumes_on_another_device()
    {
        var cpu = TrainingConfigLoader.Load(null, ["run.device=\"cpu\""]);
        var cuda = TrainingConfigLoader.Load(null, ["run.device=\"cuda:1\""]);
        var other = TrainingConfigLoader.Load(null, ["run.device=\"cpu\"", "optim.iterations=7"]);
        Assert.Equal(TrainingConfigLoader.Hash(cpu), TrainingConfigLoader.Hash(cuda));
        // The GPU determinism switch is how to run, not what is trained: a run resumes with or without it.
        var deterministic = TrainingConfigLoader.Load(null, ["run.device=\"cuda\"", "run.deterministic=true"]);
        Assert.True(deterministic.Run.Deterministic);
        Assert.Equal(TrainingConfigLoader.Hash(cpu), TrainingConfigLoader.Hash(deterministic));
        Assert.NotEqual(TrainingConfigLoader.Hash(cpu), TrainingConfigLoader.Hash(other));
    }

    [Fact]
    public void Cuda_trains_where_it_exists_and_fails_at_start_with_the_fix_where_it_does_not()
    {
        string dir = TinyTraining.NewDir("cuda");
        var config = TinyTraining.Config(data, 2, TrainingMode.Dannet, checkpointEvery: 2);
        config = config with { Run = config.Run with { Device = "cuda" } };
        if (TrainingDevice.CudaDevices() == 0)
        {
            var ex = Assert.Throws<ArgumentException>(() => new DannetTrainer(config, dir).Run(resume: false));
            Assert.StartsWith("run.device cuda:", ex.Message);
            Assert.Contains("--device cpu", ex.Message);
            Assert.Contains(TrainingDevice.Backend == TrainingDevice.Cuda ? "nvidia-smi" : "-p:TorchBackend=cuda", ex.Message);
            Assert.False(Directory.Exists(dir), "nothing is written before the device is known");
            var beyond = Assert.Throws<ArgumentException>(() => TrainingDevice.Resolve("cuda:3", "--device"));
            Assert.StartsWith("--device cuda:3:", beyond.Message);
            // The command names where the device came from (a config file: run.device) and says nothing before refusing it.
            var output = new StringWriter();
            var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
            {
                Out = new Spectre.Console.AnsiConsoleOutput(output), Interactive = Spectre.Console.InteractionSupport.No,
            });
            var refused = Assert.Throws<ArgumentException>(() => DANNet.Trainer.Cli.TrainCommand.Run(config, dir, false, console, CancellationToken.None));
            Assert.StartsWith("run.device cuda:", refused.Message);
            Assert.Equal("", output.ToString());
            Assert.False(Directory.Exists(dir));
            return;
        }
        // A CUDA machine: the run trains there and its checkpoint loads on the CPU.
        new DannetTrainer(config, dir).Run(resume: false);
        var latest = new CheckpointStore(Path.Combine(dir, DannetTrainer.CheckpointsFolder), 2).Latest()!.Value;
        using var nets = DannetNets.Create(ArchitectureSpec.Parse(config.Model.Architecture), relighting: true, withDiscriminators: true, config.Model.DiscriminatorChannels);
        CheckpointStore.Load(latest.Dir, nets);
        Assert.Equal(DeviceType.CPU, nets.Device.type);
    }

    [Fact]
    public void An_explicit_cpu_run_is_bit_identical_to_the_same_run_on_the_default_device_when_that_is_the_cpu()
    {
        var config = TinyTraining.Config(data, 3, TrainingMode.Dannet, checkpointEvery: 3);
        using var onCpu = TinyTraining.Scratch("device-cpu");
        using var byDefault = TinyTraining.Scratch("device-auto");
        new DannetTrainer(config with { Run = config.Run with { Device = "cpu" } }, onCpu).Run(resume: false);
        var auto = TrainingDevice.Resolve(TrainingDevice.Auto);
        var compared = config with { Run = config.Run with { Device = auto.type == DeviceType.CPU ? TrainingDevice.Auto : "cpu" } };
        new DannetTrainer(compared, byDefault).Run(resume: false);
        Assert.Equal(TinyTraining.Steps(onCpu), TinyTraining.Steps(byDefault));
        Assert.Equal(3, TinyTraining.Steps(onCpu).Count);
    }
}
