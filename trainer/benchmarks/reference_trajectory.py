#!/usr/bin/env python3
"""The reference implementation's DANNet training loop on small seeded inputs: a trajectory to hold ours against.

The nets, the light losses and the LSGAN form are the official code's (github.com/W-zx-Y/DANNet, only its network/
folder is imported); the loop follows its train.py step by step, in its order: the day pass (0.01·adversarial +
0.01·light), the night pass (0.01·adversarial + static + 0.01·light, pseudo labels fused from the upsampled day and
night logits), the source pass (segmentation + light), then the discriminators on the detached predictions (½ per
domain), then SGD for LightNet + segmentation net (lr 2.5e-4, momentum 0.9, weight decay 5e-4) and Adam for each
discriminator (lr 1e-4, betas 0.9/0.99), all with the poly schedule (power 0.9) over the run.

The seeded LightNet's last convolution is scaled by 2^-6, so its residual starts small (seeded as it is, the light loss
starts near 65 and the first SGD step is so large that float32 rounding alone changes the next losses by 30 %). Two
departures from the reference's loop, both the project's and both documented: the static loss is the intended 3x3 rule (the reference's
own degenerates, docs/dannet-method.md; this script's `intended_static_loss` is the project's rule, written here in
Python), and Dropout2d is set to p = 0 on both sides (the two libtorch builds draw different dropout masks).
In float64 runs the exposure target E is not rounded to float32 (L_exp_z's
torch.FloatTensor): a constant of the reference's float32-only code; the class weights are the reference's formula in
float64, rounded to float32 (its float32 arithmetic differs by 1 ulp for some classes). Everything else — BatchNorm in
training mode included — is the reference's as it is.

Weights and inputs are not stored: every tensor comes from the counter-based generator of
tests/data/reference/make_segmentation_goldens.py (FNV-1a of a key seeds SplitMix64), which the C# side
(trainer/DANNet.Trainer.Engine/Diagnostics/SeededWeights.cs) computes bit for bit. In float64 two correct implementations agree to
rounding; in float32 (what training uses) they drift apart slowly, which the comparison measures.

    /usr/bin/python3 trainer/benchmarks/reference_trajectory.py <DANNet checkout> --iterations 300 --out out/trajectory.json

A settled start: `--save DIR` keeps the four nets after a run, `--init DIR` starts another from them (the seeded start is
violent — every difference grows 1e2-1e5x per iteration — so only a settled one can be compared over hundreds of iterations):

    /usr/bin/python3 trainer/benchmarks/reference_trajectory.py <DANNet checkout> --iterations 300 --dtype float32 --save out/settled --out warm.json
    /usr/bin/python3 trainer/benchmarks/reference_trajectory.py <DANNet checkout> --init out/settled --iterations 300 --dtype float32 --out ref.json

Writes JSON: the settings, per iteration the loss terms, every --snapshot-every iterations the sums and sums of squares
of each net's parameters, and every --grad-every iterations the norm of the adversarial terms' gradient on the
generator (LightNet + segmentation net) next to the norm of the whole generator gradient.
"""
import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "data" / "reference"))


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("official", help="a checkout of github.com/W-zx-Y/DANNet (its network/ folder is imported)")
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--size", type=int, default=64, help="square side of every image (divisible by 8)")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64",
                   help="float64 agrees to rounding over many iterations but is ~10x slower on a CPU; float32 is what training uses")
    p.add_argument("--snapshot-every", type=int, default=10)
    p.add_argument("--grad-every", type=int, default=10, help="0: never (each costs two more backward passes)")
    p.add_argument("--adversarial-weight", type=float, default=0.01,
                   help="the generator's adversarial weight (train.py's 0.01); 0: the control, the discriminators train, the generator gets no adversarial gradient")
    p.add_argument("--generator-lr", type=float, default=2.5e-4,
                   help="base learning rate of LightNet + segmentation net (train.py's 2.5e-4); a smaller one keeps the seeded start from running away")
    p.add_argument("--init", metavar="DIR",
                   help="start from DIR/{segmentation,light,day,night}.pth (a --save of an earlier run: a settled start) instead of the seeded "
                        "weights; Dropout2d stays at p = 0 and LightNet is not rescaled")
    p.add_argument("--save", metavar="DIR", help="after the last iteration, write the four nets' state dicts there (float32, PyTorch .pth)")
    p.add_argument("--threads", type=int, default=2, help="libtorch threads (another count sums in another order: a rounding variant of the same run)")
    p.add_argument("--out", required=True)
    return p.parse_args()


args = parse()
sys.argv = [sys.argv[0], args.official]  # make_segmentation_goldens imports the official code from argv[1]
from make_segmentation_goldens import seeded_value, unit_values  # noqa: E402
from network import PSPNet, LightNet, FCDiscriminator, L_TV, L_exp_z, SSIM  # noqa: E402  (the official code)

# The official L_exp_z moves its target to CUDA; on a CPU the tensor stays where it is.
torch.Tensor.cuda = lambda self, *a, **k: self
if args.dtype == "float64":
    # L_exp_z builds its target E with torch.FloatTensor, rounding it to float32: in a float64 run E keeps the run's precision
    # (in float32 the two are the same).
    torch.FloatTensor = lambda data: torch.tensor([float(v) for v in data], dtype=torch.float64)

FREQUENCIES = [0.36869696, 0.06084986, 0.22824049, 0.00655399, 0.00877272, 0.01227341, 0.00207795, 0.0055127, 0.15928651,
               0.01157818, 0.04018982, 0.01218957, 0.00135122, 0.06994545, 0.00267456, 0.00235192, 0.00232904, 0.00098658,
               0.00413907]
DTYPE = torch.float64 if args.dtype == "float64" else torch.float32
LIGHT_OUTPUT, LIGHT_OUTPUT_SCALE = ("model.20.weight", "model.20.bias"), 2.0 ** -6
LR_D, MOMENTUM, WEIGHT_DECAY, POWER = 1e-4, 0.9, 5e-4, 0.9


def seed(module, prefix):
    for key, t in module.state_dict().items():
        if t.dtype == torch.int64:
            continue
        with torch.no_grad():
            t.copy_(seeded_value(prefix + key, tuple(t.shape)))


def unit(key, shape):
    n = 1
    for s in shape:
        n *= s
    return torch.from_numpy(unit_values(key, n).reshape(shape)).to(DTYPE)


def batch(it, n, size):
    """The iteration's inputs: source images and labels, a day and a night image per pair (see TrajectoryInputs.cs)."""
    shape = (n, 3, size, size)
    source = unit(f"it{it}.source", shape) * 1.5
    day = unit(f"it{it}.day", shape) * 1.5
    night = unit(f"it{it}.night", shape) * 0.5 - 1.2
    u = unit(f"it{it}.labels", (n, size, size))
    labels = ((u + 1) * 9.5).floor().long().clamp(0, 18)
    labels[unit(f"it{it}.ignore", (n, size, size)) < -0.8] = 255
    return source, labels, day, night


def intended_static_loss(static_logits, pseudo, weights):
    """The project's static loss (StaticLoss.cs): the reference's intended 3x3 neighbourhood rule, focal γ = 1."""
    classes = static_logits.shape[1]
    valid = pseudo != 255
    safe = torch.where(valid, pseudo, torch.zeros_like(pseudo))
    one_hot = F.one_hot(safe, classes).permute(0, 3, 1, 2).to(static_logits.dtype) * valid.unsqueeze(1).to(static_logits.dtype)
    occurs = F.max_pool2d(one_hot, 3, stride=1, padding=1)
    prob = F.softmax(static_logits, 1)
    p = (prob * weights.view(1, -1, 1, 1) * occurs).amax(1)
    focal = -(1 - p) * torch.log(p.clamp_min(1e-12))
    return (focal * valid.to(focal.dtype)).sum() / valid.sum().to(focal.dtype).clamp_min(1)


def mse(d_out, label):  # train.py's weightedMSE
    return torch.mean((d_out - torch.full_like(d_out, label)).abs() ** 2)


def moments(module):
    params = [p.detach() for p in module.parameters()]
    return {"sum": float(sum(p.sum() for p in params)), "sumsq": float(sum((p * p).sum() for p in params))}


def main():
    torch.set_num_threads(args.threads)
    model, light = PSPNet(num_classes=19), LightNet()
    d_day, d_night = FCDiscriminator(num_classes=19), FCDiscriminator(num_classes=19)
    nets = {"segmentation": model, "light": light, "day": d_day, "night": d_night}
    init = {}
    if args.init:
        for name, net in nets.items():
            path = Path(args.init) / f"{name}.pth"
            net.load_state_dict(torch.load(path, map_location="cpu"))
            init[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    else:
        for net, prefix in ((model, ""), (light, ""), (d_day, "day."), (d_night, "night.")):
            seed(net, prefix)
        with torch.no_grad():  # LightNet's last conv × 2^-6 (exact): a small residual at the start, as a trained-from-scratch LightNet has
            for key in LIGHT_OUTPUT:
                light.state_dict()[key].mul_(LIGHT_OUTPUT_SCALE)
    for net in nets.values():
        net.to(DTYPE).train()
    for m in model.modules():
        if isinstance(m, nn.Dropout2d):
            m.p = 0.0
    generator = list(model.parameters()) + list(light.parameters())
    opt = torch.optim.SGD(generator, lr=args.generator_lr, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    opt_day = torch.optim.Adam(d_day.parameters(), lr=LR_D, betas=(0.9, 0.99))
    opt_night = torch.optim.Adam(d_night.parameters(), lr=LR_D, betas=(0.9, 0.99))

    # The reference's class weights (train.py), computed in float64 and rounded to float32 as the project does: the reference's own
    # float32 arithmetic lands 1 ulp away for some classes, which alone moves the static loss by ~1e-8.
    w = torch.log(torch.tensor(FREQUENCIES, dtype=torch.float64))
    weights = ((torch.mean(w) - w) / torch.std(w) * 0.05 + 1.0).to(torch.float32).to(DTYPE)
    seg_loss = nn.CrossEntropyLoss(ignore_index=255, weight=weights)
    exposure, tv, ssim = L_exp_z(32), L_TV(), SSIM()
    size = args.size
    interp = nn.Upsample(size=(size, size), mode="bilinear", align_corners=True)

    def light_loss(x, r, e):
        return 10 * tv(r) + torch.mean(ssim(x + r, x)) + torch.mean(exposure(x + r, e))

    out = {"settings": {"iterations": args.iterations, "size": size, "batch": args.batch, "arch": "pspnet (ResNet-101)",
                        "dtype": args.dtype, "adversarialWeight": args.adversarial_weight, "generatorLr": args.generator_lr, "torch": torch.__version__, "dropout": 0.0, "threads": args.threads,
                        "init": init or None},
           "iterations": [], "snapshots": [], "adversarialGradient": []}
    began = time.time()
    for it in range(args.iterations):
        decay = (1 - it / args.iterations) ** POWER
        opt.param_groups[0]["lr"] = args.generator_lr * decay
        opt_day.param_groups[0]["lr"] = LR_D * decay
        opt_night.param_groups[0]["lr"] = LR_D * decay
        opt.zero_grad(); opt_day.zero_grad(); opt_night.zero_grad()
        for p in list(d_day.parameters()) + list(d_night.parameters()):
            p.requires_grad = False
        source, labels, day, night = batch(it, args.batch, size)
        e = night.mean()
        terms = {}
        probe = args.grad_every > 0 and it % args.grad_every == 0
        adv_grad = total_grad = None

        r = light(day)
        light_day = light_loss(day, r, e)
        pred_d = interp(model(day + r)[1])
        adv_day = mse(d_day(F.softmax(pred_d, dim=1)), 0)
        day_total = args.adversarial_weight * adv_day + 0.01 * light_day
        if probe:
            adv_grad_day = torch.autograd.grad(args.adversarial_weight * adv_day, generator, retain_graph=True, allow_unused=True)
        day_total.backward()

        r = light(night)
        light_night = light_loss(night, r, e)
        pred_n = interp(model(night + r)[1])
        threshold = torch.ones_like(pred_d[:, :11]) * 0.2
        threshold[pred_d[:, :11] > 0.4] = 0.8
        fused = torch.zeros_like(pred_d)
        fused[:, :11] = threshold * pred_d[:, :11].detach() + (1 - threshold) * pred_n[:, :11].detach()
        fused[:, 11:] = pred_n[:, 11:].detach()
        pseudo = torch.argmax(fused * weights.view(1, -1, 1, 1), dim=1)
        pseudo[pseudo >= 11] = 255
        adv_night = mse(d_night(F.softmax(pred_n, dim=1)), 0)
        static = intended_static_loss(pred_n[:, :11], pseudo, weights[:11])
        night_total = args.adversarial_weight * adv_night + static + 0.01 * light_night
        if probe:
            adv_grad_night = torch.autograd.grad(args.adversarial_weight * adv_night, generator, retain_graph=True, allow_unused=True)
            sq = 0.0
            for a, b in zip(adv_grad_day, adv_grad_night):
                if a is not None or b is not None:
                    g = (a if a is not None else 0) + (b if b is not None else 0)
                    sq += float((g * g).sum())
            adv_grad = sq ** 0.5
        night_total.backward()

        r = light(source)
        light_source = light_loss(source, r, e)
        pred_c = interp(model(source + r)[1])
        seg = seg_loss(pred_c, labels)
        (seg + light_source).backward()
        if probe:
            total_grad = float(torch.sqrt(sum((p.grad * p.grad).sum() for p in generator if p.grad is not None)))

        for p in list(d_day.parameters()) + list(d_night.parameters()):
            p.requires_grad = True
        src_p = F.softmax(pred_c.detach(), dim=1)
        d_day_loss = mse(d_day(src_p), 0) / 2 + mse(d_day(F.softmax(pred_d.detach(), dim=1)), 1) / 2
        d_night_loss = mse(d_night(src_p), 0) / 2 + mse(d_night(F.softmax(pred_n.detach(), dim=1)), 1) / 2
        (d_day_loss + d_night_loss).backward()
        opt.step(); opt_day.step(); opt_night.step()

        for name, v in (("seg", seg), ("light_source", light_source), ("adv_day", adv_day), ("light_day", light_day),
                        ("adv_night", adv_night), ("static", static), ("light_night", light_night), ("d_day", d_day_loss),
                        ("d_night", d_night_loss)):
            terms[name] = float(v)
        out["iterations"].append({"it": it, "terms": terms})
        if probe:
            out["adversarialGradient"].append({"it": it, "adversarial": adv_grad, "generator": total_grad})
        if (it + 1) % args.snapshot_every == 0 or it + 1 == args.iterations:
            out["snapshots"].append({"after": it + 1, "segmentation": moments(model), "light": moments(light),
                                     "dayDiscriminator": moments(d_day), "nightDiscriminator": moments(d_night)})
        if it % 10 == 0 or it + 1 == args.iterations:
            print(f"it {it + 1}/{args.iterations}  " + "  ".join(f"{k} {v:.5f}" for k, v in terms.items())
                  + f"  ({time.time() - began:.0f} s)", flush=True)
    out["settings"]["seconds"] = round(time.time() - began, 1)
    if args.save:
        folder = Path(args.save)
        folder.mkdir(parents=True, exist_ok=True)
        for name, net in nets.items():
            state = {k: (v.to(torch.float32) if v.is_floating_point() else v) for k, v in net.state_dict().items()}
            tmp = folder / f"{name}.pth.tmp"
            torch.save(state, tmp)
            tmp.replace(folder / f"{name}.pth")
    tmp = Path(args.out + ".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n")
    tmp.replace(args.out)


main()
