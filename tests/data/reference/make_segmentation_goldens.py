#!/usr/bin/env python3
"""Golden forward outputs of the reference's segmentation nets (PSPNet, DeepLab-v2, RefineNet on
ResNet-101, each behind the reference's LightNet), for tests/DANNet.Trainer.Tests/Models/ReferenceForwardTests.cs.

The weights are not stored: three ResNet-101 state dicts are 520 MB. Every tensor of every state
dict is filled by a counter-based generator keyed by the tensor's state-dict key (FNV-1a of the key
seeds SplitMix64 over the element index; 24 bits per value, exact in float32), which the C# test
(SeededWeights.cs) implements bit for bit, so both sides hold the same weights without a file.

Run with Debian's PyTorch (apt-get install python3-torch python3-pil) on the official code:
    /usr/bin/python3 tests/data/reference/make_segmentation_goldens.py <DANNet checkout> <RGB image>
(<DANNet checkout>: a copy of github.com/W-zx-Y/DANNet; only its network/ folder is imported.)
Writes segmentation_goldens.json beside this script: the input, LightNet's residual, the main
logits before re-weighting and the final mask (re-weighted with the reference's class
frequencies and std 0.05, bilinear upsampling with align_corners=True to the input size, argmax),
each in float32 and in float64, per net.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

MASK64 = (1 << 64) - 1
here = Path(__file__).resolve().parent
sys.path.insert(0, str(Path(sys.argv[1]).resolve()))
from network import PSPNet, Deeplab, RefineNet, LightNet  # noqa: E402  (the official code)


def key_seed(key):
    h = 0xCBF29CE484222325
    for b in key.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def unit_values(key, n):
    """n values in [-1, 1): SplitMix64 of (seed + (i + 1) * golden gamma), top 24 bits."""
    with np.errstate(over="ignore"):
        z = np.uint64(key_seed(key)) + (np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    m = (z >> np.uint64(40)).astype(np.int64)
    return ((2 * m - (1 << 24)).astype(np.float32) / np.float32(1 << 24))


def seeded_value(key, shape):
    """The value of one state-dict entry (see SeededWeights.cs: the same rules)."""
    n = int(np.prod(shape)) if len(shape) else 1
    u = unit_values(key, n)
    name = key.rsplit(".", 1)[-1]
    if name == "running_var":
        v = np.float32(1) + u * np.float32(0.5)
    elif name == "running_mean":
        v = u * np.float32(0.1)
    elif name == "bias":
        v = u * np.float32(0.1)
    elif len(shape) == 1:  # BatchNorm scale
        v = np.float32(1) + u * np.float32(0.25)
    else:  # conv (and transposed conv) weights: uniform with variance 1/fan-in
        fan_in = int(np.prod(shape[1:]))
        v = u * np.float32(np.sqrt(np.float32(3.0 / fan_in)))
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def seed_weights(module):
    state = module.state_dict()
    for key, t in state.items():
        if t.dtype == torch.int64:  # num_batches_tracked
            continue
        with torch.no_grad():
            t.copy_(seeded_value(key, tuple(t.shape)))


def tensor_json(t):
    """{"shape", "data"}: float32 values with 9 significant digits (enough to round-trip), float64 with 17, integers as they are."""
    t = t.detach().cpu()
    if t.dtype == torch.float32:
        data = [float(f"{v:.9g}") for v in t.flatten().tolist()]
    elif t.dtype == torch.float64:
        data = t.flatten().tolist()
    else:
        data = [int(v) for v in t.flatten().tolist()]
    return {"shape": list(t.shape), "data": data}


def reference_forward(name, light, model, x):
    """evaluate.py's path: r = LightNet(x); logits = model(x + r) (main output); re-weight; upsample; argmax."""
    with torch.no_grad():
        r = light(x)
        out = model(x + r)
        logits = out if name == "refinenet" else out[1]
        freq = torch.tensor([0.36869696, 0.06084986, 0.22824049, 0.00655399, 0.00877272, 0.01227341, 0.00207795, 0.0055127,
                             0.15928651, 0.01157818, 0.04018982, 0.01218957, 0.00135122, 0.06994545, 0.00267456, 0.00235192,
                             0.00232904, 0.00098658, 0.00413907], dtype=torch.float32).to(x.dtype)
        w = torch.log(freq)
        w = (torch.mean(w) - w) / torch.std(w) * 0.05 + 1.0
        weighted = logits * w.view(1, -1, 1, 1)
        up = nn.Upsample(size=x.shape[2:], mode="bilinear", align_corners=True)(weighted)
        mask = up.argmax(dim=1).to(torch.uint8)
    return r, logits, mask


def main():
    image = np.asarray(Image.open(sys.argv[2]).convert("RGB"), dtype=np.float32) / np.float32(255)
    # LightNet halves twice and doubles twice: the reference needs sides divisible by 4 (crop the rest).
    image = image[: image.shape[0] // 4 * 4, : image.shape[1] // 4 * 4]
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    x32 = torch.from_numpy(((image - mean) / std).transpose(2, 0, 1).copy()).unsqueeze(0)
    out = {"input": tensor_json(x32), "image": Path(sys.argv[2]).name,
           "torch": torch.__version__, "weights": "SeededWeights (FNV-1a key seed, SplitMix64, 24 bits)"}
    torch.set_num_threads(2)
    light = LightNet()
    seed_weights(light)
    nets = {"pspnet": lambda: PSPNet(num_classes=19), "deeplabv2": lambda: Deeplab(num_classes=19),
            "refinenet": lambda: RefineNet(num_classes=19, imagenet=False)}
    for name, make in nets.items():
        model = make()
        seed_weights(model)
        for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
            l, m = light.to(dtype).eval(), model.to(dtype).eval()
            r, logits, mask = reference_forward(name, l, m, x32.to(dtype))
            out[f"light.{tag}.r"] = tensor_json(r)  # the same LightNet before every net
            out[f"{name}.{tag}.logits"] = tensor_json(logits)
            out[f"{name}.{tag}.mask"] = tensor_json(mask)
            classes = np.bincount(mask.flatten().numpy(), minlength=19)
            print(f"{name} {tag}: logits {tuple(logits.shape)} |max| {logits.abs().max().item():.4g} "
                  f"std {logits.std().item():.4g}; mask classes present {int((classes > 0).sum())}", flush=True)
    (here / "segmentation_goldens.json").write_text(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
