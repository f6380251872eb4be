using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Training;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Training;

/// <summary>
/// A tensor made without a device lands on the default device. With the default device set to <c>meta</c> around a real CPU run (nets,
/// batches and weights on the CPU explicitly), any such tensor meets the CPU ones and fails — the slip a GPU run would hit as
/// "expected all tensors to be on the same device". libtorch has no meta kernels for convolution or batch norm, so the nets themselves
/// run on the CPU. Runs in the non-parallel collection: the default device is the whole process's.
/// </summary>
[Collection(TinySynthNightCollection.Name)]
public sealed class DeviceSlipTests(TinySynthNightFixture data)
{
    [Fact]
    public void Every_loss_term_evaluation_and_a_resume_into_fresh_optimisers_keep_to_the_runs_device()
    {
        string dir = TinyTraining.NewDir("meta");
        var tiny = TinyTraining.Config(data, 4, checkpointEvery: 2);
        var config = tiny with { Run = tiny.Run with { Device = "cpu", EvalEvery = 2 } };
        try
        {
            // The probe itself: a tensor made without a device is on meta and cannot meet a CPU one.
            set_default_device(META);
            try
            {
                using var stray = zeros(2);
                Assert.Equal(TorchSharp.DeviceType.META, stray.device_type);
                using var real = zeros(2, device: CPU);
                Assert.ThrowsAny<Exception>(() => DANNet.Trainer.Torch.HeldScalars.Plus(stray, real).Dispose());
            }
            finally
            {
                set_default_device(CPU);
            }

            // Iterations 1-2 with every DANNet term, the evaluation after 2, a checkpoint; then a resume into fresh optimisers for 3-4.
            using var cancel = new CancellationTokenSource();
            var stopAfterTwo = new DANNet.Trainer.Diagnostics.InlineProgress<TrainingProgress>(p => { if (p.Iteration == 2 && p.Phase == TrainingPhase.Training) cancel.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => Meta(() => new DannetTrainer(config, dir) { OnDevice = () => set_default_device(META) }
                .Run(false, stopAfterTwo, cancel.Token)));
            var summary = Meta(() => new DannetTrainer(config, dir) { OnDevice = () => set_default_device(META) }.Run(resume: true));
            Assert.Equal(4, summary.Iterations);
            Assert.NotNull(summary.FinalMeanIoU);
            var steps = TinyTraining.Steps(dir);
            Assert.Equal(4, steps.Count);
            foreach (var term in new[] { "seg", "light_source", "adv_day", "light_day", "adv_night", "static", "light_night", "d_day", "d_night" })
                Assert.Contains($"\"{term}\":", steps[^1]);
        }
        finally
        {
            set_default_device(CPU);
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    /// <summary>Runs <paramref name="run"/> and puts the default device back to the CPU whatever happens.</summary>
    private static T Meta<T>(Func<T> run)
    {
        try
        {
            return run();
        }
        finally
        {
            set_default_device(CPU);
        }
    }
}
