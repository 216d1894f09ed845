#!/usr/bin/python3
"""PyTorch side of `go run ./bench/speed` (the NEU ResNet twin, random weights, random images): prints one
JSON object with the best-of-reps rates of
  train_img_s       AdamW step, batch 16
  infer_img_s       forward, batch 32, no grad
  gradcam_loop_img_s  all 6 class maps the pytorch-grad-cam way: a full forward + backward per class
  gradcam_one_img_s   one forward, then autograd.grad of each class score w.r.t. layer4 (head backward only)
  scorecam_fwd_s    ScoreCAM masked forwards/s as pytorch-grad-cam does them: each layer4 channel upsampled
                    (bilinear), min-max normalised, times the image, forwards in batches of 16, softmax
  /usr/bin/python3 bench/speed_torch.py [--threads 2] [--reps 5]
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

from cam_speed import features_and_logits, one_pass, per_class
from torch_twin import NEUResNet, read_config


def best_rate(fn, items, reps):
    fn()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return items / best


def scorecam(net, img, size, batch=16):
    with torch.no_grad():
        feat, _ = features_and_logits(net, img)
        up = F.interpolate(feat, size=(size, size), mode="bilinear", align_corners=False)[0]  # [C,S,S]
        flat = up.flatten(1)
        lo, hi = flat.min(1).values[:, None, None], flat.max(1).values[:, None, None]
        masks = (up - lo) / (hi - lo + 1e-8)
        masked = img * masks[:, None]  # [C,1,S,S]
        out = [F.softmax(net(masked[i:i + batch]), 1) for i in range(0, masked.shape[0], batch)]
        return torch.cat(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = read_config(None)
    size = cfg["size"]
    net = NEUResNet(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=5e-4)
    x16, y16 = torch.rand(16, 1, size, size), torch.randint(0, 6, (16,))

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x16), y16).backward()
        opt.step()

    res = {"torch": torch.__version__, "threads": a.threads}
    net.train()
    res["train_img_s"] = best_rate(step, 16, a.reps)
    net.eval()
    x32 = torch.rand(32, 1, size, size)
    with torch.no_grad():
        res["infer_img_s"] = best_rate(lambda: net(x32), 32, a.reps)
    res["gradcam_loop_img_s"] = best_rate(lambda: per_class(net, x16, size), 16, a.reps)
    res["gradcam_one_img_s"] = best_rate(lambda: one_pass(net, x16, size), 16, a.reps)
    img = torch.rand(1, 1, size, size)
    res["scorecam_fwd_s"] = best_rate(lambda: scorecam(net, img, size), cfg["widths"][3], max(2, a.reps // 2))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
