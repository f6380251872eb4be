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
        var terms = new Dictionary<string, double>();
        double Check(string name, Tensor t)
        {
            double v = t.item<float>();
            if (!double.IsFinite(v)) throw new NonFiniteLossException(name, iteration, v);
            terms[name] = v;
            return v;
        }

        nets.Train();
        nets.DayDiscriminator?.SetRequiresGrad(false);
        nets.NightDiscriminator?.SetRequiresGrad(false);
        generatorOptimizer.zero_grad();
        bool lightOn = nets.Light is not null && _loss.UseLight;
        double e = pairs is null ? ExposureLoss.Target(labelled.Images) : ExposureLoss.Target(pairs.Night);
        long h = labelled.Labels.shape[1], w = labelled.Labels.shape[2];

        // Source pass (the oracle's labelled night batch takes this place).
        Tensor sourceProb;
        using (var scope = NewDisposeScope())
        {
            var (r, logits) = nets.Forward(labelled.Images);
            var up = DannetNets.Upsample(logits, h, w);
            var seg = WeightedCrossEntropy.Compute(up, labelled.Labels, trainWeights);
            Check("seg", seg);
            var total = seg;
            if (lightOn && r is not null)
            {
                var light = LightLoss.Compute(labelled.Images, r, e).Total;
                Check("light_source", light);
                total = total.Plus(light.mul(_sourceLightWeight));
            }
            total.backward();
            sourceProb = functional.softmax(up.detach(), 1).MoveToOuterDisposeScope();
        }

        Tensor? dayProb = null, nightProb = null;
        if (pairs is not null && config.Mode == TrainingMode.Dannet)
        {
            long th = pairs.Day.shape[2], tw = pairs.Day.shape[3];
            // Day pass.
            using (var scope = NewDisposeScope())
            {
                bool dayLoss = lightOn || _loss.UseAdversarial;
                using var noGrad = dayLoss ? null : no_grad();
                var (r, logits) = nets.Forward(pairs.Day);
                var up = DannetNets.Upsample(logits, th, tw);
                var prob = functional.softmax(up, 1);
                if (dayLoss)
                {
                    Tensor total = zeros(1, device: labelled.Labels.device);
                    if (_loss.UseAdversarial)
                    {
                        var adv = LsganLoss.Generator(nets.DayDiscriminator!.call(prob));
                        Check("adv_day", adv);
                        total = total.Plus(adv.mul(_adversarialWeight));
                    }
                    if (lightOn && r is not null)
                    {
                        var light = LightLoss.Compute(pairs.Day, r, e).Total;
                        Check("light_day", light);
                        total = total.Plus(light.mul(_targetLightWeight));
                    }
                    total.backward();
                }
                dayProb = prob.detach().MoveToOuterDisposeScope();
            }
            // Night pass.
            using (var scope = NewDisposeScope())
            {
                var (r, logits) = nets.Forward(pairs.Night);
                var up = DannetNets.Upsample(logits, th, tw);
                var prob = functional.softmax(up, 1);
                Tensor total = zeros(1, device: labelled.Labels.device);
                bool any = false;
                if (_loss.UseAdversarial)
                {
                    var adv = LsganLoss.Generator(nets.NightDiscriminator!.call(prob));
                    Check("adv_night", adv);
                    total = total.Plus(adv.mul(_adversarialWeight));
                    any = true;
                }
                if (_loss.UseStatic)
                {
                    var pseudo = PseudoLabelFusion.Fuse(dayProb, prob.detach(), trainWeights);
                    var stat = StaticLoss.Compute(up[.., ..CityscapesClasses.StaticCount], pseudo, trainWeights[..CityscapesClasses.StaticCount]);
                    Check("static", stat);
                    total = total.Plus(stat.mul(_staticWeight));
                    any = true;
                }
                if (lightOn && r is not null)
                {
                    var light = LightLoss.Compute(pairs.Night, r, e).Total;
                    Check("light_night", light);
                    total = total.Plus(light.mul(_targetLightWeight));
                    any = true;
                }
                if (any) total.backward();
                nightProb = prob.detach().MoveToOuterDisposeScope();
            }
        }
        generatorOptimizer.step();

        if (discriminatorOptimizer is not null && dayProb is not null && nightProb is not null && _loss.UseAdversarial)
        {
            using var scope = NewDisposeScope();
            var dayD = nets.DayDiscriminator!;
            var nightD = nets.NightDiscriminator!;
            dayD.SetRequiresGrad(true);
            nightD.SetRequiresGrad(true);
            discriminatorOptimizer.zero_grad();
            var dDay = LsganLoss.Discriminator(dayD.call(sourceProb), dayD.call(dayProb));
            var dNight = LsganLoss.Discriminator(nightD.call(sourceProb), nightD.call(nightProb));
            Check("d_day", dDay);
            Check("d_night", dNight);
            dDay.Plus(dNight).backward();
            discriminatorOptimizer.step();
        }
        sourceProb.Dispose();
        dayProb?.Dispose();
        nightProb?.Dispose();
        return terms;
    }
}
