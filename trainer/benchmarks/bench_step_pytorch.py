#!/usr/bin/env python3
"""PyTorch counterpart of `dannet-train bench-step`, for comparing speed on the same machine.

Builds the same generator as the C# trainer (LightNet + ResNet trunk + PSPNet / DeepLab-v2 /
RefineNet head, same widths, strides and dilations) and times the same two things: the eval-mode
forward pass without gradients, and one training step (relight, segment, bilinear upsample,
weighted cross-entropy + light loss, backward, SGD with momentum and weight decay). Medians after
warm-up. Uses Debian's python3-torch (apt-get install python3-torch).

    python3 trainer/benchmarks/bench_step_pytorch.py --arch pspnet-r18-l16 --height 256 --width 512 --batch 1
"""
import argparse
import json
import re
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, k, stride=1, pad=0, dil=1):
    return [nn.Conv2d(cin, cout, k, stride, pad, dil, bias=False), nn.BatchNorm2d(cout)]


class Block(nn.Module):
    def __init__(self, cin, planes, stride, dil, bottleneck, stride_on_1x1, down):
        super().__init__()
        if bottleneck:
            s1, s3 = (stride, 1) if stride_on_1x1 else (1, stride)
            self.body = nn.Sequential(*conv_bn(cin, planes, 1, s1), nn.ReLU(),
                                      *conv_bn(planes, planes, 3, s3, dil, dil), nn.ReLU(),
                                      *conv_bn(planes, planes * 4, 1))
        else:
            self.body = nn.Sequential(*conv_bn(cin, planes, 3, stride, dil, dil), nn.ReLU(),
                                      *conv_bn(planes, planes, 3, 1, dil, dil))
        self.down = down

    def forward(self, x):
        return F.relu(self.body(x) + (self.down(x) if self.down is not None else x))


class Trunk(nn.Module):
    BLOCKS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}

    def __init__(self, depth, width, deep_stem, stride_on_1x1, d3, d4, ceil):
        super().__init__()
        ch = lambda c: c if width == 1 else max(8, round(c * width / 8) * 8)
        bottleneck = depth >= 50
        exp = 4 if bottleneck else 1
        if deep_stem:
            self.stem = nn.Sequential(*conv_bn(3, ch(64), 3, 2, 1), nn.ReLU(), *conv_bn(ch(64), ch(64), 3, 1, 1), nn.ReLU(),
                                      *conv_bn(ch(64), ch(128), 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2, 1, ceil_mode=ceil))
            cin = ch(128)
        else:
            self.stem = nn.Sequential(*conv_bn(3, ch(64), 7, 2, 3), nn.ReLU(), nn.MaxPool2d(3, 2, 1, ceil_mode=ceil))
            cin = ch(64)
        layers = []
        for i, (planes, n) in enumerate(zip([ch(64), ch(128), ch(256), ch(512)], self.BLOCKS[depth])):
            dil = [1, 1, d3, d4][i]
            stride = 1 if i == 0 or dil > 1 else 2
            blocks = []
            for b in range(n):
                down = None
                if b == 0 and (stride != 1 or cin != planes * exp):
                    down = nn.Sequential(*conv_bn(cin, planes * exp, 1, stride))
                blocks.append(Block(cin, planes, stride if b == 0 else 1, dil, bottleneck, stride_on_1x1, down))
                cin = planes * exp
            layers.append(nn.Sequential(*blocks))
        self.layers = nn.ModuleList(layers)
        self.channels = [l[-1].body[-1].num_features for l in layers]

    def forward(self, x):
        x = self.stem(x)
        feats = []
        for l in self.layers:
            x = l(x)
            feats.append(x)
        return feats


class PSP(nn.Module):
    def __init__(self, trunk, n=19):
        super().__init__()
        self.trunk = trunk
        c = trunk.channels[3]
        mid = c // 4
        self.stages = nn.ModuleList([nn.Sequential(nn.AdaptiveAvgPool2d(b), nn.Conv2d(c, mid, 1, bias=False)) for b in (1, 2, 3, 6)])
        self.bottleneck = nn.Sequential(nn.Conv2d(c + 4 * mid, mid, 3, padding=1, bias=False), nn.BatchNorm2d(mid), nn.Dropout2d(0.1))
        self.cls = nn.Conv2d(mid, n, 1)

    def forward(self, x):
        f = self.trunk(x)[3]
        h, w = f.shape[2:]
        pyr = [F.interpolate(s(f), (h, w), mode="bilinear", align_corners=True) for s in self.stages] + [f]
        return self.cls(self.bottleneck(torch.cat(pyr, 1)))


class DeepLab(nn.Module):
    def __init__(self, trunk, n=19):
        super().__init__()
        self.trunk = trunk
        self.aspp = nn.ModuleList([nn.Conv2d(trunk.channels[3], n, 3, padding=d, dilation=d) for d in (6, 12, 18, 24)])
        for m in trunk.modules():
            if isinstance(m, nn.BatchNorm2d):
                for p in m.parameters():
                    p.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        for m in self.trunk.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
        return self

    def forward(self, x):
        f = self.trunk(x)[3]
        return sum(c(f) for c in self.aspp)


class RCU(nn.Module):
    def __init__(self, cin, cout, blocks):
        super().__init__()
        self.convs = nn.ModuleList([nn.ModuleList([nn.Conv2d(cin if b == 0 and j == 0 else cout, cout, 3, padding=1, bias=j == 0) for j in range(2)]) for b in range(blocks)])

    def forward(self, x):
        for block in self.convs:
            r = x
            for c in block:
                x = c(F.relu(x))
            x = x + r
        return x


class CRP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(c, c, 3, padding=1, bias=False) for _ in range(4)])
        self.pool = nn.MaxPool2d(5, 1, 2)

    def forward(self, x):
        top = x
        for c in self.convs:
            top = c(self.pool(top))
            x = x + top
        return x


class Refine(nn.Module):
    def __init__(self, trunk, n=19):
        super().__init__()
        self.trunk = trunk
        c = trunk.channels
        wide, narrow = c[3] // 4, c[2] // 4
        conv = lambda i, o: nn.Conv2d(i, o, 3, padding=1, bias=False)
        self.top = nn.ModuleList([conv(c[3], wide), RCU(wide, wide, 2), CRP(wide), RCU(wide, wide, 3), conv(wide, narrow)])
        self.paths = nn.ModuleList([nn.ModuleList([conv(c[k], narrow), RCU(narrow, narrow, 2), conv(narrow, narrow), CRP(narrow), RCU(narrow, narrow, 3)] + ([conv(narrow, narrow)] if k > 0 else []))
                                    for k in (2, 1, 0)])
        self.cls = nn.Conv2d(narrow, n, 3, padding=1)

    def forward(self, x):
        l1, l2, l3, l4 = self.trunk(x)
        l4, l3 = F.dropout(l4, 0.5, self.training), F.dropout(l3, 0.5, self.training)
        t = self.top
        y = t[4](t[3](t[2](F.relu(t[1](t[0](l4))))))
        for skip, p in zip((l3, l2, l1), self.paths):
            s = p[2](p[1](p[0](skip)))
            y = p[4](p[3](F.relu(s + F.interpolate(y, skip.shape[2:], mode="bilinear", align_corners=True))))
            if len(p) > 5:
                y = p[5](y)
        return self.cls(F.dropout(y, 0.5, self.training))


def lightnet(ngf):
    layers = [nn.ReflectionPad2d(3), *conv_bn(3, ngf, 7), nn.ReLU(), *conv_bn(ngf, ngf * 2, 3, 2, 1), nn.ReLU(), *conv_bn(ngf * 2, ngf * 4, 3, 2, 1), nn.ReLU()]

    class Res(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.b = nn.Sequential(nn.ReflectionPad2d(1), *conv_bn(c, c, 3), nn.ReLU(), nn.ReflectionPad2d(1), *conv_bn(c, c, 3))

        def forward(self, x):
            return x + self.b(x)

    layers += [Res(ngf * 4) for _ in range(3)]
    layers += [nn.ConvTranspose2d(ngf * 4, ngf * 2, 3, 2, 1, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(),
               nn.ConvTranspose2d(ngf * 2, ngf, 3, 2, 1, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(),
               nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
    return nn.Sequential(*layers)


def build(arch):
    m = re.fullmatch(r"(pspnet|deeplabv2|refinenet)-r(\d+)(?:-w([\d.]+))?(?:-l(\d+))?", arch)
    if not m:
        raise SystemExit(f"unknown architecture {arch}")
    head, depth, width, light = m.group(1), int(m.group(2)), float(m.group(3) or 1), int(m.group(4) or 64)
    if head == "pspnet":
        seg = PSP(Trunk(depth, width, True, False, 2, 4, True))
    elif head == "deeplabv2":
        seg = DeepLab(Trunk(depth, width, False, True, 2, 4, True))
    else:
        seg = Refine(Trunk(depth, width, False, False, 1, 1, False))
    return lightnet(light), seg


def light_loss(x, r, e):
    relit = x + r
    b, _, h, w = r.shape
    tv = 2 * (((r[:, :, 1:] - r[:, :, :-1]) ** 2).sum() / ((h - 1) * w) + ((r[..., 1:] - r[..., :-1]) ** 2).sum() / (h * (w - 1))) / b
    pad = lambda t: F.pad(t, (1, 1, 1, 1), mode="reflect")
    px, py = pad(relit), pad(x)
    pool = lambda t: F.avg_pool2d(t, 3, 1)
    mx, my = pool(px), pool(py)
    sx, sy, sxy = pool(px * px) - mx ** 2, pool(py * py) - my ** 2, pool(px * py) - mx * my
    ssim = torch.clamp((1 - (2 * mx * my + 1e-4) * (2 * sxy + 9e-4) / ((mx ** 2 + my ** 2 + 1e-4) * (sx + sy + 9e-4))) / 2, 0, 1).mean()
    exp = ((F.avg_pool2d(relit.mean(1, keepdim=True), 32) - e) ** 2).mean()
    return 10 * tv + ssim + exp


def timed(fn, warmup, iters):
    out = []
    for i in range(warmup + iters):
        t = time.perf_counter()
        fn()
        if i >= warmup:
            out.append((time.perf_counter() - t) * 1000)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", nargs="+", default=["pspnet-r18-l16"])
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    freqs = [.36869696, .06084986, .22824049, .00655399, .00877272, .01227341, .00207795, .0055127, .15928651, .01157818,
             .04018982, .01218957, .00135122, .06994545, .00267456, .00235192, .00232904, .00098658, .00413907]
    nl = -torch.log(torch.tensor(freqs))
    weights = (nl - nl.mean()) / nl.std() * 0.05 + 1
    for arch in a.arch:
        torch.manual_seed(0)
        light, seg = build(arch)
        params = [p for p in list(light.parameters()) + list(seg.parameters()) if p.requires_grad]
        opt = torch.optim.SGD(params, lr=2.5e-4, momentum=0.9, weight_decay=5e-4)
        x = torch.randn(a.batch, 3, a.height, a.width)
        y = torch.randint(0, 19, (a.batch, a.height, a.width))

        def forward():
            light.eval(); seg.eval()
            with torch.no_grad():
                seg(x + light(x))

        def step():
            light.train(); seg.train()
            opt.zero_grad()
            r = light(x)
            up = F.interpolate(seg(x + r), (a.height, a.width), mode="bilinear", align_corners=True)
            loss = F.cross_entropy(up, y, weight=weights, ignore_index=255) + light_loss(x, r, x.mean().item())
            loss.backward()
            opt.step()

        f, s = timed(forward, a.warmup, a.iterations), timed(step, a.warmup, a.iterations)
        print(json.dumps({"framework": f"pytorch {torch.__version__}", "architecture": arch, "input": [a.batch, 3, a.height, a.width],
                          "threads": torch.get_num_threads(), "forward_ms": statistics.median(f), "train_step_ms": statistics.median(s),
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "parameters": sum(p.numel() for p in params)}))


if __name__ == "__main__":
    main()
