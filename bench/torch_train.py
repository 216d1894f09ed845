#!/usr/bin/python3
"""Train the PyTorch twin of the NEU ResNet on the project's split (from bench/neusplit), with the same
recipe as `neucam train` (AdamW, cosine schedule with 1 warm-up epoch, dihedral + crop + contrast/brightness
augmentation), to compare accuracy and speed with GoMLX.

  go run ./bench/neusplit -data ../shared/neu-det > /tmp/split.csv
  python3 bench/torch_train.py /tmp/split.csv [--epochs 16 --lr 3e-3 --batch 32 --size 128]
"""
import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from torch_twin import NEUResNet, read_config


def load(csv, size):
    parts = {"train": ([], []), "val": ([], []), "test": ([], [])}
    for line in open(csv):
        split, label, path = line.strip().split(",", 2)
        img = Image.open(path).convert("L").resize((size, size), Image.BILINEAR)
        parts[split][0].append(np.asarray(img, dtype=np.float32) / 255)
        parts[split][1].append(int(label))
    return {k: (torch.from_numpy(np.stack(v[0]))[:, None], torch.tensor(v[1])) for k, v in parts.items()}


def augment(x, rng):
    """x: [B,1,S,S]. Per image: one of 8 dihedral transforms, a random crop of 85-100% resized back,
    contrast and brightness factors in [0.9,1.1], clipped to [0,1] (as gradcam/resnet augment, -augment full)."""
    out = torch.empty_like(x)
    s = x.shape[-1]
    for i in range(x.shape[0]):
        im = x[i]
        k = rng.integers(8)
        im = torch.rot90(im, int(k % 4), dims=(1, 2))
        if k >= 4:
            im = torch.flip(im, dims=(2,))
        side = int(round((0.85 + 0.15 * rng.random()) * s))
        x0, y0 = int(rng.random() * (s - side)), int(rng.random() * (s - side))
        im = F.interpolate(im[None, :, y0:y0 + side, x0:x0 + side], size=(s, s), mode="bilinear",
                           align_corners=False)[0]
        m = im.mean()
        im = (im - m) * (0.9 + 0.2 * rng.random()) + m * (0.9 + 0.2 * rng.random())
        out[i] = im.clamp(0, 1)
    return out


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(x[i:i + 64]).argmax(1) for i in range(0, len(x), 64)])
    net.train()
    return (pred == y).float().mean().item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--epochs", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--widths", default="16,32,64,128")
    ap.add_argument("--strides", default="2,2,2,1,1")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--aug", default="full", choices=["full", "dihedral", "none"])
    ap.add_argument("--precise-bn", action="store_true")
    ap.add_argument("--opt", default="adamw", choices=["adamw", "sgd"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    data = load(a.csv, a.size)
    cfg = read_config(None)
    cfg.update(size=a.size, widths=[int(v) for v in a.widths.split(",")], strides=[int(v) for v in a.strides.split(",")])
    net = NEUResNet(cfg)
    xtr, ytr = data["train"]
    steps_per_epoch = len(xtr) // a.batch
    total, warm = steps_per_epoch * a.epochs, steps_per_epoch
    # GoMLX's AdamW decays by lr*wd*w, as torch.optim.AdamW.
    if a.opt == "adamw":
        opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=a.wd)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9, nesterov=True, weight_decay=a.wd)
    lr_at = lambda s: a.lr * s / warm if s < warm else a.lr / 100 + (a.lr - a.lr / 100) * (1 + math.cos(math.pi * (s - warm) / (total - warm))) / 2
    t0, step = time.time(), 0
    for ep in range(a.epochs):
        perm = torch.from_numpy(rng.permutation(len(xtr)))
        for k in range(steps_per_epoch):
            idx = perm[k * a.batch:(k + 1) * a.batch]
            for gr in opt.param_groups:
                gr["lr"] = lr_at(step)
            xb = xtr[idx]
            if a.aug == "full":
                xb = augment(xb, rng)
            elif a.aug == "dihedral":
                xb = xb.clone()
                for i in range(len(xb)):
                    k = int(rng.integers(8))
                    im = torch.rot90(xb[i], k % 4, dims=(1, 2))
                    xb[i] = torch.flip(im, dims=(2,)) if k >= 4 else im
            loss = F.cross_entropy(net(xb), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        print("epoch %d: loss %.4f val %.2f%% (%.0fs)" % (ep + 1, loss.item(), 100 * accuracy(net, *data["val"]),
                                                         time.time() - t0), flush=True)
    print("before precise BN: val %.2f%% test %.2f%% train %.2f%%" % (100 * accuracy(net, *data["val"]),
          100 * accuracy(net, *data["test"]), 100 * accuracy(net, xtr, ytr)))
    if not a.precise_bn:
        print("test accuracy %.2f%%, %.0fs, %.1f img/s" % (100 * accuracy(net, *data["test"]), time.time() - t0,
                                                          total * a.batch / (time.time() - t0)))
        return
    # Precise BN: running statistics recomputed with the final weights over the training images.
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average
    with torch.no_grad():
        for i in range(0, len(xtr), a.batch):
            net(xtr[i:i + a.batch])
    print("train accuracy (eval mode, no augmentation) %.2f%%" % (100 * accuracy(net, xtr, ytr)))
    print("test accuracy %.2f%%, %.0fs, %.1f img/s" % (100 * accuracy(net, *data["test"]), time.time() - t0,
                                                      total * a.batch / (time.time() - t0)))


if __name__ == "__main__":
    main()
