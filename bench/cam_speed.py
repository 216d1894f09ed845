#!/usr/bin/python3
"""Grad-CAM speed in PyTorch on the twin of the NEU ResNet, for the side-by-side with the GoMLX engine.

Two ways to get the maps of all 6 classes for a batch of 16 images:
  per-class: what pytorch-grad-cam does (one full forward + backward per target class; 6 passes);
  one-pass:  one forward, then autograd.grad of each class score w.r.t. the target layer only (head backward).
Prints images/s for each. Input 200x200 gray images resized to the model's input size, as neucam does.

  /usr/bin/python3 bench/cam_speed.py [--size 128] [--batch 16] [--reps 5] [--threads 2]
"""
import argparse
import time

import torch
import torch.nn.functional as F

from torch_twin import NEUResNet, read_config


def features_and_logits(net, x):
    x = (x - net.mean) / net.std
    x = F.relu(net.stem(x))
    for b in net.layers:
        x = b(x)
    feat = x
    return feat, net.head(feat.mean(dim=(2, 3)))


def gradcam_from(feat, grads):
    w = grads.mean(dim=(2, 3), keepdim=True)
    return F.relu((w * feat).sum(1))


def per_class(net, raw, size):
    maps = []
    for k in range(6):  # pytorch-grad-cam: a full forward and backward for each target
        x = F.interpolate(raw, size=(size, size), mode="bilinear", align_corners=False)
        feat, logits = features_and_logits(net, x)
        feat.retain_grad()
        net.zero_grad()
        logits[:, k].sum().backward()
        maps.append(gradcam_from(feat.detach(), feat.grad))
    return torch.stack(maps, 1)


def one_pass(net, raw, size):
    x = F.interpolate(raw, size=(size, size), mode="bilinear", align_corners=False)
    feat, logits = features_and_logits(net, x)
    maps = []
    for k in range(6):
        (g,) = torch.autograd.grad(logits[:, k].sum(), feat, retain_graph=k < 5)
        maps.append(gradcam_from(feat.detach(), g))
    return torch.stack(maps, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = read_config(None)
    cfg["size"] = a.size
    net = NEUResNet(cfg).eval()
    raw = torch.rand(a.batch, 1, 200, 200)
    for name, fn in (("per-class (pytorch-grad-cam style)", per_class), ("one-pass", one_pass)):
        fn(net, raw, a.size)
        t = time.time()
        for _ in range(a.reps):
            m = fn(net, raw, a.size)
        ips = a.reps * a.batch / (time.time() - t)
        print("%-36s %6.1f img/s  (all 6 class maps, batch %d, %dx%d input, %d threads, maps %s)"
              % (name, ips, a.batch, a.size, a.size, a.threads, tuple(m.shape)))


if __name__ == "__main__":
    main()
