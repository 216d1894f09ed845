#!/usr/bin/python3
"""PyTorch twin of the NEU ResNet in gradcam/resnet (same architecture, same weights).

  check DIR          load DIR/weights/*.npy (resnet.Classifier.ExportNumpy), run DIR/images.npy and
                     compare with the GoMLX logits in DIR/logits.npy (written by bench/twinexport).
  bench [--size S]   training and inference images/s of the same net on this CPU (random data).

Layout notes: GoMLX images are [B,S,S,1] (channels last), conv weights [K,K,Cin,Cout]; PyTorch uses
NCHW and [Cout,Cin,K,K]. Padding is K//2 on each side, as in resnet.Im2ColConv.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 6
BN_EPS = 1e-5


def read_config(path):
    cfg = {"size": 128, "widths": [16, 32, 64, 128], "strides": [2, 2, 2, 1, 1], "mean": 0.5, "std": 0.25,
           "padding": "zeros", "head": "gap", "head_param": 0.0, "classes": NUM_CLASSES}
    if path and os.path.exists(path):
        for line in open(path):
            k, v = line.split()
            if k in ("widths", "strides"):
                cfg[k] = [int(x) for x in v.split(",")]
            elif k in ("size", "classes"):
                cfg[k] = int(v)
            elif k in ("padding", "head"):
                cfg[k] = v
            else:
                cfg[k] = float(v)
    return cfg


class ConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride, pad="zeros"):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False, padding_mode=pad)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS, momentum=0.1)

    def forward(self, x):
        return self.bn(self.conv(x))


class Block(nn.Module):
    def __init__(self, cin, width, stride, pad="zeros"):
        super().__init__()
        self.c1 = ConvBN(cin, width, 3, stride, pad)
        self.c2 = ConvBN(width, width, 3, 1, pad)
        self.down = ConvBN(cin, width, 1, stride) if (stride != 1 or cin != width) else None

    def forward(self, x):
        y = F.relu(self.c1(x))
        y = self.c2(y)
        s = x if self.down is None else self.down(x)
        return F.relu(y + s)


class NEUResNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        w, s = cfg["widths"], cfg["strides"]
        self.mean, self.std = cfg["mean"], cfg["std"]
        pad = cfg.get("padding", "zeros")
        self.stem = ConvBN(1, w[0], 3, s[0], pad)
        blocks, cin = [], w[0]
        for i in range(4):
            blocks.append(Block(cin, w[i], s[i + 1], pad))
            cin = w[i]
        self.layers = nn.ModuleList(blocks)
        self.head = nn.Linear(cin, cfg.get("classes", NUM_CLASSES))
        self.head_kind, self.head_param = cfg.get("head", "gap"), cfg.get("head_param", 0.0)

    def forward(self, x, feats=None):  # x: [B,1,S,S] in [0,1]; feats: a list that receives layer1..layer4
        x = (x - self.mean) / self.std
        x = F.relu(self.stem(x))
        for b in self.layers:
            x = b(x)
            if feats is not None:
                feats.append(x)
        if self.head_kind == "gap":
            return self.head(x.mean(dim=(2, 3)))
        # CAM-first heads (resnet.HeadLSE / HeadTopK): one map per class by the dense weights as a 1x1 conv, pooled.
        maps = torch.einsum("bchw,kc->bkhw", x, self.head.weight).flatten(2) + self.head.bias[None, :, None]
        r = self.head_param
        if self.head_kind in ("lse", "mix"):
            lse = (torch.logsumexp(r * maps, dim=2) - math.log(maps.shape[2])) / r
            return lse if self.head_kind == "lse" else (lse + maps.mean(dim=2)) / 2
        k = max(1, min(maps.shape[2], int(round(self.head_param * maps.shape[2]))))
        return maps.topk(k, dim=2).values.mean(dim=2)


def load_gomlx_weights(net, wdir):
    def npy(name):
        return torch.from_numpy(np.load(os.path.join(wdir, "resnet." + name + ".npy")))

    def conv_bn(m, conv, bn):
        m.conv.weight.data.copy_(npy(conv + ".weights").permute(3, 2, 0, 1))
        m.bn.weight.data.copy_(npy(bn + ".scale"))
        m.bn.bias.data.copy_(npy(bn + ".offset"))
        m.bn.running_mean.data.copy_(npy(bn + ".mean"))
        m.bn.running_var.data.copy_(npy(bn + ".variance"))

    conv_bn(net.stem, "stem.conv", "stem.bn")
    for i, b in enumerate(net.layers):
        p = "layer%d." % (i + 1)
        conv_bn(b.c1, p + "conv1", p + "bn1")
        conv_bn(b.c2, p + "conv2", p + "bn2")
        if b.down is not None:
            conv_bn(b.down, p + "down_conv", p + "down_bn")
    net.head.weight.data.copy_(npy("head.weights").t())
    net.head.bias.data.copy_(npy("head.biases"))


def check(d):
    cfg = read_config(os.path.join(d, "weights", "config.txt"))
    net = NEUResNet(cfg)
    load_gomlx_weights(net, os.path.join(d, "weights"))
    net.eval()
    images = torch.from_numpy(np.load(os.path.join(d, "images.npy"))).permute(0, 3, 1, 2).contiguous()
    want = np.load(os.path.join(d, "logits.npy"))
    with torch.no_grad():
        got = net(images).numpy()
    diff = np.abs(got - want).max()
    agree = (got.argmax(1) == want.argmax(1)).mean()
    print("images %d, max |logit diff| GoMLX vs PyTorch = %.3g (max |logit| %.3g), argmax agreement %.0f%%"
          % (len(want), diff, np.abs(want).max(), 100 * agree))
    ok = diff < 1e-3 * max(1.0, float(np.abs(want).max()))
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


def bench(size, batch, steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = read_config(None)
    cfg["size"] = size
    net = NEUResNet(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=5e-4)
    x = torch.rand(batch, 1, size, size)
    y = torch.randint(0, NUM_CLASSES, (batch,))
    net.train()

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    t = time.time()
    for _ in range(steps):
        step()
    train_ips = steps * batch / (time.time() - t)
    net.eval()
    with torch.no_grad():
        for _ in range(2):
            net(x)
        t = time.time()
        for _ in range(steps):
            net(x)
        inf_ips = steps * batch / (time.time() - t)
    print("pytorch %s, %d threads, size %d, batch %d: train %.1f img/s, inference %.1f img/s"
          % (torch.__version__, threads, size, batch, train_ips, inf_ips))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("dir")
    b = sub.add_parser("bench")
    b.add_argument("--size", type=int, default=128)
    b.add_argument("--batch", type=int, default=32)
    b.add_argument("--steps", type=int, default=10)
    b.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    if a.cmd == "check":
        sys.exit(check(a.dir))
    bench(a.size, a.batch, a.steps, a.threads)


if __name__ == "__main__":
    main()
