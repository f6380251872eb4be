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
/// One DANNet iteration, as in the reference: the source pass (segmentation + light), the day pass
/// (adversarial + 0.01·light), the night pass (adversarial + static + 0.01·light), one SGD step for
/// the generator with the discriminators frozen, then one Adam step for both discriminators on
/// detached predictions. Each pass back-propagates on its own to free its graph early. The
/// ablation switches drop terms; source-only and oracle run the first pass alone.
/// </summary>
public sealed class DannetIteration(DannetNets nets, TrainingConfig config, Tensor trainWeights)
{
    private readonly LossConfig _loss = config.Loss;
    // The loss weights as scalars held as long as the iteration (never made per call; docs/conventions.md).
    private readonly Scalar _sourceLightWeight = config.Loss.SourceLightWeight.ToScalar();
    private readonly Scalar _targetLightWeight = config.Loss.TargetLightWeight.ToScalar();
    private readonly Scalar _adversarialWeight = config.Loss.AdversarialWeight.ToScalar();
    private readonly Scalar _staticWeight = config.Loss.StaticWeight.ToScalar();

    /// <summary>Runs the iteration and returns every loss term by name (values already checked finite).</summary>
    public Dictionary<string, double> Run(long iteration, LabelledBatch labelled, PairBatch? pairs, OptimizerHelper generatorOptimizer, OptimizerHelper? discriminatorOptimizer)
    {
        var terms = new LossTerms(iteration);
        nets.Train();
        nets.DayDiscriminator?.SetRequiresGrad(false);
        nets.NightDiscriminator?.SetRequiresGrad(false);
        generatorOptimizer.zero_grad();
        var step = new Step(terms, nets.Light is not null && _loss.UseLight,
            pairs is null ? ExposureLoss.Target(labelled.Images) : ExposureLoss.Target(pairs.Night), labelled.Labels.device);

        Tensor sourceProb = SourcePass(step, labelled);
        Tensor? dayProb = null, nightProb = null;
        if (pairs is not null && config.Mode == TrainingMode.Dannet)
        {
            dayProb = DayPass(step, pairs);
            nightProb = NightPass(step, pairs, dayProb);
        }
        generatorOptimizer.step();

        if (discriminatorOptimizer is not null && dayProb is not null && nightProb is not null && _loss.UseAdversarial)
            DiscriminatorStep(terms, discriminatorOptimizer, sourceProb, dayProb, nightProb);
        sourceProb.Dispose();
        dayProb?.Dispose();
        nightProb?.Dispose();
        return terms.Values;
    }

    /// <summary>The loss terms of one iteration by name, each checked finite as it is read.</summary>
    private sealed class LossTerms(long iteration)
    {
        public Dictionary<string, double> Values { get; } = [];

        public void Check(string name, Tensor t)
        {
            double v = t.item<float>();
            if (!double.IsFinite(v)) throw new NonFiniteLossException(name, iteration, v);
            Values[name] = v;
        }
    }

    /// <summary>What every pass of one iteration shares: its terms, whether it relights with the light loss on, the exposure target e, the device.</summary>
    private sealed record Step(LossTerms Terms, bool Relighting, double ExposureTarget, Device Device);

    /// <summary>Segmentation (and source light) loss on the labelled batch (the oracle's labelled night batch takes this place); its probabilities.</summary>
    private Tensor SourcePass(Step step, LabelledBatch labelled)
    {
        using var scope = NewDisposeScope();
        long h = labelled.Labels.shape[1], w = labelled.Labels.shape[2];
        var (r, logits) = nets.Forward(labelled.Images);
        var up = DannetNets.Upsample(logits, h, w);
        var seg = WeightedCrossEntropy.Compute(up, labelled.Labels, trainWeights);
        step.Terms.Check("seg", seg);
        var total = seg;
        if (step.Relighting && r is not null)
        {
            var light = LightLoss.Compute(labelled.Images, r, step.ExposureTarget).Total;
            step.Terms.Check("light_source", light);
            total = total.Plus(light.mul(_sourceLightWeight));
        }
        total.backward();
        return functional.softmax(up.detach(), 1).MoveToOuterDisposeScope();
    }

    /// <summary>The day image: adversarial loss against the day discriminator and the light loss; its probabilities (detached).</summary>
    private Tensor DayPass(Step step, PairBatch pairs)
    {
        using var scope = NewDisposeScope();
        bool dayLoss = step.Relighting || _loss.UseAdversarial;
        using var noGrad = dayLoss ? null : no_grad();
        var (r, logits) = nets.Forward(pairs.Day);
        var up = DannetNets.Upsample(logits, pairs.Day.shape[2], pairs.Day.shape[3]);
        var prob = functional.softmax(up, 1);
        if (dayLoss)
        {
            Tensor total = zeros(1, device: step.Device);
            if (_loss.UseAdversarial)
            {
                var adv = LsganLoss.Generator(nets.DayDiscriminator!.call(prob));
                step.Terms.Check("adv_day", adv);
                total = total.Plus(adv.mul(_adversarialWeight));
            }
            if (step.Relighting && r is not null)
            {
                var light = LightLoss.Compute(pairs.Day, r, step.ExposureTarget).Total;
                step.Terms.Check("light_day", light);
                total = total.Plus(light.mul(_targetLightWeight));
            }
            total.backward();
        }
        return prob.detach().MoveToOuterDisposeScope();
    }

    /// <summary>The night image: adversarial, static (pseudo labels fused with the day prediction) and light losses; its probabilities (detached).</summary>
    private Tensor NightPass(Step step, PairBatch pairs, Tensor dayProb)
    {
        using var scope = NewDisposeScope();
        var (r, logits) = nets.Forward(pairs.Night);
        var up = DannetNets.Upsample(logits, pairs.Day.shape[2], pairs.Day.shape[3]);
        var prob = functional.softmax(up, 1);
        Tensor total = zeros(1, device: step.Device);
        bool any = false;
        if (_loss.UseAdversarial)
        {
            var adv = LsganLoss.Generator(nets.NightDiscriminator!.call(prob));
            step.Terms.Check("adv_night", adv);
            total = total.Plus(adv.mul(_adversarialWeight));
            any = true;
        }
        if (_loss.UseStatic)
        {
            var pseudo = PseudoLabelFusion.Fuse(dayProb, prob.detach(), trainWeights);
            var stat = StaticLoss.Compute(up[.., ..CityscapesClasses.StaticCount], pseudo, trainWeights[..CityscapesClasses.StaticCount]);
            step.Terms.Check("static", stat);
            total = total.Plus(stat.mul(_staticWeight));
            any = true;
        }
        if (step.Relighting && r is not null)
        {
            var light = LightLoss.Compute(pairs.Night, r, step.ExposureTarget).Total;
            step.Terms.Check("light_night", light);
            total = total.Plus(light.mul(_targetLightWeight));
            any = true;
        }
        if (any) total.backward();
        return prob.detach().MoveToOuterDisposeScope();
    }

    /// <summary>One Adam step for both discriminators on the detached predictions: source as "real", day and night as "fake".</summary>
    private void DiscriminatorStep(LossTerms terms, OptimizerHelper optimizer, Tensor sourceProb, Tensor dayProb, Tensor nightProb)
    {
        using var scope = NewDisposeScope();
        var dayD = nets.DayDiscriminator!;
        var nightD = nets.NightDiscriminator!;
        dayD.SetRequiresGrad(true);
        nightD.SetRequiresGrad(true);
        optimizer.zero_grad();
        var dDay = LsganLoss.Discriminator(dayD.call(sourceProb), dayD.call(dayProb));
        var dNight = LsganLoss.Discriminator(nightD.call(sourceProb), nightD.call(nightProb));
        terms.Check("d_day", dDay);
        terms.Check("d_night", dNight);
        dDay.Plus(dNight).backward();
        optimizer.step();
    }
}
