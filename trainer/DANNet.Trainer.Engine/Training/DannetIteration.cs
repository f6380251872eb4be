using DANNet.Edge.Contracts;
using DANNet.Trainer.Losses;
using DANNet.Trainer.Models;
using DANNet.Trainer.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace DANNet.Trainer.Training;

/// <summary>
/// One DANNet iteration, in the reference's order: the day pass (adversarial + 0.01·light), the night
/// pass (adversarial + static on pseudo labels fused from the day and night logits + 0.01·light), the
/// source pass (segmentation + light), one SGD step for the generator with the discriminators frozen,
/// then one Adam step for both discriminators on the detached predictions. Each pass back-propagates
/// on its own to free its graph early. The ablation switches drop terms; source-only and oracle run
/// the source pass alone.
/// </summary>
public sealed class DannetIteration(DannetNets nets, TrainingConfig config, Tensor trainWeights)
{
    private readonly LossConfig _loss = config.Loss;
    // The loss weights as scalars held as long as the iteration (never made per call; docs/conventions.md).
    private readonly Scalar _sourceLightWeight = config.Loss.SourceLightWeight.ToScalar();
    private readonly Scalar _targetLightWeight = config.Loss.TargetLightWeight.ToScalar();
    private readonly Scalar _adversarialWeight = config.Loss.AdversarialWeight.ToScalar();
    private readonly Scalar _staticWeight = config.Loss.StaticWeight.ToScalar();

    /// <summary>
    /// Runs the iteration and returns every loss term, still on the device (no value is read back here: the caller reads many iterations'
    /// terms at once and checks them finite; it owns the result).
    /// </summary>
    public IterationTerms Run(long iteration, LabelledBatch labelled, PairBatch? pairs, OptimizerHelper generatorOptimizer, OptimizerHelper? discriminatorOptimizer)
    {
        var terms = new LossTerms();
        nets.Train();
        nets.DayDiscriminator?.SetRequiresGrad(false);
        nets.NightDiscriminator?.SetRequiresGrad(false);
        generatorOptimizer.zero_grad();
        using var exposureTarget = ExposureLoss.TargetOnDevice(pairs is null ? labelled.Images : pairs.Night);
        var step = new Step(terms, nets.Light is not null && _loss.UseLight, exposureTarget, labelled.Labels.device);

        // Passes return their upsampled logits, detached: the night pass fuses pseudo labels from the day logits, the discriminators
        // see the softmax of all three.
        Tensor? dayLogits = null, nightLogits = null;
        if (pairs is not null && config.Mode == TrainingMode.Dannet)
        {
            dayLogits = DayPass(step, pairs);
            nightLogits = NightPass(step, pairs, dayLogits);
        }
        Tensor sourceLogits = SourcePass(step, labelled);
        generatorOptimizer.step();

        if (discriminatorOptimizer is not null && dayLogits is not null && nightLogits is not null && _loss.UseAdversarial)
            DiscriminatorStep(terms, discriminatorOptimizer, sourceLogits, dayLogits, nightLogits);
        sourceLogits.Dispose();
        dayLogits?.Dispose();
        nightLogits?.Dispose();
        return terms.Stack();
    }

    /// <summary>The loss terms of one iteration, kept (detached, one value each) until they are stacked into one tensor.</summary>
    private sealed class LossTerms
    {
        private readonly List<string> _names = [];
        private readonly List<Tensor> _values = [];

        public void Keep(string name, Tensor t)
        {
            _names.Add(name);
            var value = t.detach().reshape(1);
            value.DetachFromDisposeScope();
            _values.Add(value);
        }

        /// <summary>The order terms are logged and shown in (the passes run day, night, source; people read the segmentation loss first).</summary>
        private static readonly string[] Order = ["seg", "light_source", "adv_day", "light_day", "adv_night", "static", "light_night", "d_day", "d_night"];

        public IterationTerms Stack()
        {
            var order = Enumerable.Range(0, _names.Count).OrderBy(i => Array.IndexOf(Order, _names[i]) is var k and >= 0 ? k : Order.Length + i).ToList();
            var stacked = cat(order.Select(i => _values[i]).ToList(), 0);
            foreach (var v in _values) v.Dispose();
            return new IterationTerms(order.Select(i => _names[i]).ToList(), stacked);
        }
    }

    /// <summary>What every pass of one iteration shares: its terms, whether it relights with the light loss on, the exposure target E (on the device), the device.</summary>
    private sealed record Step(LossTerms Terms, bool Relighting, Tensor ExposureTarget, Device Device);

    /// <summary>Segmentation (and source light) loss on the labelled batch (the oracle's labelled night batch takes this place); its upsampled logits (detached).</summary>
    private Tensor SourcePass(Step step, LabelledBatch labelled)
    {
        using var scope = NewDisposeScope();
        long h = labelled.Labels.shape[1], w = labelled.Labels.shape[2];
        var (r, logits) = nets.Forward(labelled.Images);
        var up = DannetNets.Upsample(logits, h, w);
        var seg = WeightedCrossEntropy.Compute(up, labelled.Labels, trainWeights);
        step.Terms.Keep("seg", seg);
        var total = seg;
        if (step.Relighting && r is not null)
        {
            var light = LightLoss.Compute(labelled.Images, r, step.ExposureTarget).Total;
            step.Terms.Keep("light_source", light);
            total = total.Plus(light.mul(_sourceLightWeight));
        }
        total.backward();
        return up.detach().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The generator's adversarial term on a target image: the discriminator (fixed) on the softmax of the upsampled logits, pushed towards
    /// the source label (LSGAN).
    /// </summary>
    public static Tensor GeneratorAdversarial(Module<Tensor, Tensor> discriminator, Tensor upsampledLogits)
    {
        using var scope = NewDisposeScope();
        return LsganLoss.Generator(discriminator.call(functional.softmax(upsampledLogits, 1))).MoveToOuterDisposeScope();
    }

    /// <summary>The day image: adversarial loss against the day discriminator and the light loss; its upsampled logits (detached).</summary>
    private Tensor DayPass(Step step, PairBatch pairs)
    {
        using var scope = NewDisposeScope();
        bool dayLoss = step.Relighting || _loss.UseAdversarial;
        using var noGrad = dayLoss ? null : no_grad();
        var (r, logits) = nets.Forward(pairs.Day);
        var up = DannetNets.Upsample(logits, pairs.Day.shape[2], pairs.Day.shape[3]);
        if (dayLoss)
        {
            Tensor total = zeros(1, device: step.Device);
            if (_loss.UseAdversarial)
            {
                var adv = GeneratorAdversarial(nets.DayDiscriminator!, up);
                step.Terms.Keep("adv_day", adv);
                total = total.Plus(adv.mul(_adversarialWeight));
            }
            if (step.Relighting && r is not null)
            {
                var light = LightLoss.Compute(pairs.Day, r, step.ExposureTarget).Total;
                step.Terms.Keep("light_day", light);
                total = total.Plus(light.mul(_targetLightWeight));
            }
            total.backward();
        }
        return up.detach().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The night image: adversarial, static and light losses; its upsampled logits (detached). The pseudo labels fuse the day and night
    /// <em>logits</em>, as the reference does (its threshold 0.4 is on the day logit; on probabilities it would mean something else).
    /// </summary>
    private Tensor NightPass(Step step, PairBatch pairs, Tensor dayLogits)
    {
        using var scope = NewDisposeScope();
        var (r, logits) = nets.Forward(pairs.Night);
        var up = DannetNets.Upsample(logits, pairs.Day.shape[2], pairs.Day.shape[3]);
        Tensor total = zeros(1, device: step.Device);
        bool any = false;
        if (_loss.UseAdversarial)
        {
            var adv = GeneratorAdversarial(nets.NightDiscriminator!, up);
            step.Terms.Keep("adv_night", adv);
            total = total.Plus(adv.mul(_adversarialWeight));
            any = true;
        }
        if (_loss.UseStatic)
        {
            var pseudo = PseudoLabelFusion.Fuse(dayLogits, up.detach(), trainWeights);
            var stat = StaticLoss.Compute(up[.., ..CityscapesClasses.StaticCount], pseudo, trainWeights[..CityscapesClasses.StaticCount]);
            step.Terms.Keep("static", stat);
            total = total.Plus(stat.mul(_staticWeight));
            any = true;
        }
        if (step.Relighting && r is not null)
        {
            var light = LightLoss.Compute(pairs.Night, r, step.ExposureTarget).Total;
            step.Terms.Keep("light_night", light);
            total = total.Plus(light.mul(_targetLightWeight));
            any = true;
        }
        if (any) total.backward();
        return up.detach().MoveToOuterDisposeScope();
    }

    /// <summary>One Adam step for both discriminators on the softmax of the detached logits: source as "real" (0), day and night as "fake" (1).</summary>
    private void DiscriminatorStep(LossTerms terms, OptimizerHelper optimizer, Tensor sourceLogits, Tensor dayLogits, Tensor nightLogits)
    {
        using var scope = NewDisposeScope();
        var sourceProb = functional.softmax(sourceLogits, 1);
        var dayProb = functional.softmax(dayLogits, 1);
        var nightProb = functional.softmax(nightLogits, 1);
        var dayD = nets.DayDiscriminator!;
        var nightD = nets.NightDiscriminator!;
        dayD.SetRequiresGrad(true);
        nightD.SetRequiresGrad(true);
        optimizer.zero_grad();
        var dDay = LsganLoss.Discriminator(dayD.call(sourceProb), dayD.call(dayProb));
        var dNight = LsganLoss.Discriminator(nightD.call(sourceProb), nightD.call(nightProb));
        terms.Keep("d_day", dDay);
        terms.Keep("d_night", dNight);
        dDay.Plus(dNight).backward();
        optimizer.step();
    }
}

/// <summary>One iteration's loss terms: their names in order and their values, one float each, in one tensor on the run's device.</summary>
public sealed class IterationTerms(IReadOnlyList<string> names, Tensor values) : IDisposable
{
    public IReadOnlyList<string> Names { get; } = names;

    public Tensor Values { get; } = values;

    public void Dispose() => Values.Dispose();

    /// <summary>
    /// Reads the terms of several iterations back in one copy (the only wait for the device), checks every value finite in iteration order
    /// — the first that is not stops the run, naming its term and iteration — and returns the last iteration's terms by name. Disposes them.
    /// </summary>
    public static Dictionary<string, double> ReadBack(List<(long Iteration, IterationTerms Terms)> pending)
    {
        try
        {
            if (pending.Count == 0) return [];
            double[] values;
            using (var all = cat(pending.Select(p => p.Terms.Values).ToList(), 0))
            using (var host = all.to(ScalarType.Float64, CPU))
                values = host.data<double>().ToArray();
            int at = 0;
            var last = new Dictionary<string, double>();
            foreach (var (iteration, terms) in pending)
            {
                last = [];
                foreach (var name in terms.Names)
                {
                    double v = values[at++];
                    if (!double.IsFinite(v)) throw new NonFiniteLossException(name, iteration + 1, v); // counted from 1, as progress and metrics.jsonl count
                    last[name] = v;
                }
            }
            return last;
        }
        finally
        {
            foreach (var (_, terms) in pending) terms.Dispose();
            pending.Clear();
        }
    }
}
