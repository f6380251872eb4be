using DANNet.Trainer.Tests.Data.SynthNight;
using DANNet.Trainer.Training;

namespace DANNet.Trainer.Tests.Training;

/// <summary>Batches made ahead on a background thread are the batches the loop would make: the run is the same, bit for bit.</summary>
[Collection(TinySynthNightCollection.Name)]
public sealed class PrefetchTests(TinySynthNightFixture data)
{
    [Fact]
    public void A_run_with_batches_prepared_ahead_is_bit_identical_to_one_that_makes_them_in_the_loop()
    {
        var tiny = TinyTraining.Config(data, 4, checkpointEvery: 4);
        string inLoop = TinyTraining.NewDir("prefetch-0"), ahead = TinyTraining.NewDir("prefetch-3");
        try
        {
            new DannetTrainer(tiny with { Run = tiny.Run with { Prefetch = 0 } }, inLoop).Run(resume: false);
            new DannetTrainer(tiny with { Run = tiny.Run with { Prefetch = 3 } }, ahead).Run(resume: false);
            var a = TinyTraining.Steps(inLoop);
            Assert.Equal(4, a.Count);
            Assert.Equal(a, TinyTraining.Steps(ahead));
            // The weights after the last step, through the evaluation they give (the .pth archives carry write times, so not their bytes).
            Assert.Equal(File.ReadAllText(Path.Combine(inLoop, "eval", "iou.json")), File.ReadAllText(Path.Combine(ahead, "eval", "iou.json")));
        }
        finally
        {
            foreach (var d in new[] { inLoop, ahead }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public void A_failure_making_a_batch_ahead_reaches_the_loop_and_nothing_is_left_running()
    {
        var made = new List<long>();
        using (var batches = new BatchPrefetcher(it =>
        {
            lock (made) made.Add(it);
            if (it == 2) throw new IOException("image 2 is unreadable");
            return (new LabelledBatch(TorchSharp.torch.zeros(1, 3, 2, 2), TorchSharp.torch.zeros(1, 2, 2)), null);
        }, 0, 10, 2, pin: false))
        {
            batches.Take(0).Labelled.Dispose();
            batches.Take(1).Labelled.Dispose();
            Assert.Equal("image 2 is unreadable", Assert.Throws<IOException>(() => batches.Take(2)).Message);
        }
        Assert.Equal([0L, 1, 2], made);
        // Disposed early: the thread stops, the batches it made are freed.
        using var stopped = new BatchPrefetcher(it => (new LabelledBatch(TorchSharp.torch.zeros(1, 3, 2, 2), TorchSharp.torch.zeros(1, 2, 2)), null), 0, 1000, 3, pin: false);
        stopped.Take(0).Labelled.Dispose();
    }
}
