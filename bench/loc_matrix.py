#!/usr/bin/python3
"""Localization experiment matrix on the PyTorch twin of the NEU ResNet (issue 11).

Trains variants of the twin (padding x resolution x head x augmentation) with the shipped recipe (AdamW 3e-3,
cosine with one warm-up epoch, batch 16, 28 epochs, dihedral augmentation) on the project's split, then on the
test split measures accuracy, the energy gain g and the pointing game of Grad-CAM-family maps of the true class
against that class's GT boxes (maps ReLU'd, upsampled bilinearly to the image's 200x200 grid, min-max
normalised, as the Go metrics do), and the frame-masking test (mean drop of the true-class probability when a
border frame, or a centred square of the same area, is replaced by the image mean).

This is a screening proxy: the chosen variant is then trained and measured in GoMLX by `neucam train` and
`neucam evaluate`, whose numbers are the ones reported.

  go run ./bench/neusplit -data ../shared/neu-det -json > /tmp/split.jsonl
  python3 bench/loc_matrix.py /tmp/split.jsonl --jobs 8 --out results.jsonl          # the whole matrix
  python3 bench/loc_matrix.py /tmp/split.jsonl --only pad=reflect,head=topk10,res=s200x25,seed=1  # a subset
"""
import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_twin import NEUResNet, read_config  # noqa: E402

CLASSES = ["crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"]

# The matrix: every combination, seed 1 first, then seed 2.
FACTORS = {
    "pad": ["zeros", "reflect"],
    "res": ["s128x16", "s200x25", "s128x32"],  # input size x last-block side
    "head": ["gap", "lse1", "lse4", "topk10", "topk25"],  # lseR: r = R; topkP: top P% of cells
    "aug": ["dihedral", "shift"],
    # box-guided loss on the class maps W.A (no bias; = Grad-CAM's map for the gap head): none, bceL (per-cell
    # binary cross-entropy of the true class's map against the cell coverage of its GT boxes, weight L), bceallL
    # (the same for every class's map against that class's boxes).
    "box": ["none"],
}
RES = {"s128x16": (128, [2, 2, 2, 1, 1]), "s200x25": (200, [2, 2, 2, 1, 1]), "s128x32": (128, [2, 2, 1, 1, 1])}


def make_net(strides, pad, head):
    """The twin (torch_twin.NEUResNet) with a padding mode and a head: gap, lseR (log-sum-exp, r = R), mixR (mean
    of average and LSE pooling), topkP (mean of the top P% cells of each class map)."""
    kind = head.rstrip("0123456789")
    num = float(head[len(kind):] or 0)
    cfg = read_config(None)
    cfg.update(strides=strides, padding=pad, head=kind, head_param=num / 100 if kind == "topk" else num)
    return NEUResNet(cfg)


def load_data(path, size, device):
    from PIL import Image
    base = os.path.dirname(os.path.abspath(path))
    parts = {"train": [], "val": [], "test": []}
    for line in open(path):
        r = json.loads(line)
        p = r["path"] if os.path.exists(r["path"]) else os.path.join(base, "images", os.path.basename(r["path"]))
        img = Image.open(p).convert("L")
        r["pix"] = np.asarray(img.resize((size, size), Image.BILINEAR), dtype=np.float32) / 255
        r["full"] = np.asarray(img, dtype=np.float32) / 255
        r["mask"] = np.zeros((len(CLASSES), size, size), dtype=np.float32)
        sx, sy = size / r["width"], size / r["height"]
        for c, x0, y0, x1, y1 in r["boxes"]:
            if 0 <= c < len(CLASSES):
                r["mask"][c, int(round(y0 * sy)):int(round(y1 * sy)), int(round(x0 * sx)):int(round(x1 * sx))] = 1
        parts[r["split"]].append(r)
    out = {}
    for k, rs in parts.items():
        out[k] = (torch.from_numpy(np.stack([r["pix"] for r in rs]))[:, None].to(device),
                  torch.tensor([r["label"] for r in rs], device=device), rs,
                  torch.from_numpy(np.stack([r["mask"] for r in rs])).to(device))
    return out


def augment(x, gen, shift):
    """Per image one of the 8 dihedral transforms; with shift, a random translation of up to 1/8 of the side
    with reflect fill (so the frame carries no fixed content)."""
    k = torch.randint(0, 8, (x.shape[0],), generator=gen)
    out = torch.empty_like(x)
    for t in range(8):
        idx = (k == t).nonzero().flatten().to(x.device)
        if len(idx):
            im = torch.rot90(x[idx], t % 4, dims=(2, 3))
            out[idx] = torch.flip(im, dims=(3,)) if t >= 4 else im
    if not shift:
        return out
    s = x.shape[-1]
    m = s // 8
    padded = F.pad(out, (m, m, m, m), mode="reflect")
    off = torch.randint(0, 2 * m + 1, (x.shape[0], 2), generator=gen)
    return torch.stack([padded[i, :, off[i, 0]:off[i, 0] + s, off[i, 1]:off[i, 1] + s] for i in range(x.shape[0])])


def box_loss(net, x, masks, y, kind):
    """The box-guided loss: binary cross-entropy of the class maps W.A (cells of the last block, no bias) against
    the fraction of each cell covered by GT boxes; kind "bce" only the true class's map, "bceall" every class."""
    feats = []
    logits = net(x, feats)
    maps = torch.einsum("bchw,kc->bkhw", feats[-1], net.head.weight)
    target = F.adaptive_avg_pool2d(masks, maps.shape[2:])
    if kind == "bce":
        maps, target = maps.gather(1, y[:, None, None, None].expand(-1, 1, *maps.shape[2:])), target.gather(
            1, y[:, None, None, None].expand(-1, 1, *maps.shape[2:]))
    return logits, F.binary_cross_entropy_with_logits(maps, target)


def train(net, data, epochs, batch, lr, seed, shift, box="none"):
    xtr, ytr, _, mtr = data["train"]
    kind = box.rstrip("0123456789.")
    weight = float(box[len(kind):] or 0)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=5e-4)
    spe = len(xtr) // batch
    total, warm = spe * epochs, spe
    lr_at = lambda s: lr * s / warm if s < warm else lr / 100 + (lr - lr / 100) * (1 + math.cos(math.pi * (s - warm) / (total - warm))) / 2
    step = 0
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(len(xtr), generator=gen).to(xtr.device)
        for b in range(spe):
            idx = perm[b * batch:(b + 1) * batch]
            for g in opt.param_groups:
                g["lr"] = lr_at(step)
            if kind == "none":
                loss = F.cross_entropy(net(augment(xtr[idx], gen, shift)), ytr[idx])
            else:
                both = augment(torch.cat([xtr[idx], mtr[idx]], 1), gen, shift)
                logits, bl = box_loss(net, both[:, :1], both[:, 1:], ytr[idx], kind)
                loss = F.cross_entropy(logits, ytr[idx]) + weight * bl
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    net.eval()


def minmax(m):
    m = F.relu(m)
    lo = m.flatten(1).min(1).values[:, None, None]
    hi = m.flatten(1).max(1).values[:, None, None]
    d = hi - lo
    return torch.where(d > 0, (m - lo) / torch.where(d > 0, d, torch.ones_like(d)), torch.zeros_like(m))


def cam_maps(net, x, y):
    """Maps of class y per image: gradcam, hirescam, layercam at layer4, gradcam fused over layer3+layer4
    (mean of per-layer min-max maps at the finer layer's size), each [B,h,w]."""
    feats = []
    x = x.clone().requires_grad_(False)
    logits = net(x, feats)
    a3, a4 = feats[2], feats[3]
    score = logits.gather(1, y[:, None]).sum()
    g3, g4 = torch.autograd.grad(score, [a3, a4])
    gc = lambda a, g: (g.mean(dim=(2, 3), keepdim=True) * a).sum(1)
    out = {
        "gradcam": gc(a4, g4),
        "hirescam": (g4 * a4).sum(1),
        "layercam": (F.relu(g4) * a4).sum(1),
    }
    m3, m4 = minmax(gc(a3, g3)), minmax(gc(a4, g4))
    if m4.shape != m3.shape:
        m4 = F.interpolate(m4[:, None], size=m3.shape[1:], mode="bilinear", align_corners=False)[:, 0]
    out["gradcam@layer3+layer4"] = (m3 + m4) / 2
    return {k: v.detach() for k, v in out.items()}, torch.softmax(logits, 1).detach()


def box_mask(r, cls, h, w):
    m = np.zeros((h, w), dtype=bool)
    for c, x0, y0, x1, y1 in r["boxes"]:
        if c == cls:
            m[y0:y1, x0:x1] = True
    return m


def near_boxes(r, cls, h, w, tol):
    """Pixels within tol of a box of class cls (the pointing game's hit region; metrics.PointDistance)."""
    yy, xx = np.mgrid[0:h, 0:w]
    hit = np.zeros((h, w), dtype=bool)
    for c, x0, y0, x1, y1 in r["boxes"]:
        if c == cls:
            dx = np.maximum(np.maximum(x0 - xx, 0), xx - (x1 - 1))
            dy = np.maximum(np.maximum(y0 - yy, 0), yy - (y1 - 1))
            hit |= np.hypot(dx, dy) <= tol
    return hit


def localize(maps, rs, ys):
    """g and pointing score per image for one method's maps [B,h,w] against the true class's boxes."""
    out = []
    up = F.interpolate(maps[:, None], size=(200, 200), mode="bilinear", align_corners=False)[:, 0]
    up = minmax(up).cpu().numpy()
    for m, r, y in zip(up, rs, ys):
        mask = box_mask(r, int(y), 200, 200)
        u = mask.mean()
        tot = m.sum()
        if mask.sum() == 0:
            out.append(None)
            continue
        e = (m * mask).sum() / tot if tot > 0 else 0.0
        g = (e - u) / (1 - u) if u < 1 else 0.0
        best = m.max()
        near = near_boxes(r, int(y), 200, 200, 15 * 200 / 224)
        pt = near[m == best].mean() if best > 0 else 0.0
        out.append((float(g), float(pt)))
    return out


def frame_test(net, x, y, size):
    band = int(round(12 * size / 128))
    side = int(round(math.sqrt(size * size - (size - 2 * band) ** 2)))
    lo = (size - side) // 2
    mean = x.mean(dim=(2, 3), keepdim=True)
    frame = torch.zeros(size, size, dtype=torch.bool, device=x.device)
    frame[:band], frame[-band:], frame[:, :band], frame[:, -band:] = True, True, True, True
    centre = torch.zeros_like(frame)
    centre[lo:lo + side, lo:lo + side] = True
    with torch.no_grad():
        p = lambda z: torch.softmax(net(z), 1).gather(1, y[:, None])[:, 0]
        p0 = p(x)
        pf = p(torch.where(frame, mean, x))
        pc = p(torch.where(centre, mean, x))
    return (p0 - pf).mean().item(), (p0 - pc).mean().item()


def evaluate(net, data, size):
    x, y, rs, _ = data["test"]
    res = {"per_class": {}}
    scores = {}
    probs = []
    for i in range(0, len(x), 32):
        maps, p = cam_maps(net, x[i:i + 32], y[i:i + 32])
        probs.append(p)
        for k, m in maps.items():
            scores.setdefault(k, []).extend(localize(m, rs[i:i + 32], y[i:i + 32].tolist()))
    pred = torch.cat(probs).argmax(1)
    res["test_acc"] = (pred == y).float().mean().item()
    xv, yv, _, _ = data["val"]
    with torch.no_grad():
        res["val_acc"] = (net(xv).argmax(1) == yv).float().mean().item()
    ycpu = y.tolist()
    for k, sc in scores.items():
        per = {}
        for c, name in enumerate(CLASSES):
            v = [s for s, yy in zip(sc, ycpu) if yy == c and s is not None]
            per[name] = {"g": float(np.mean([a for a, _ in v])), "pt": float(np.mean([b for _, b in v]))}
        v = [s for s in sc if s is not None]
        per["mean"] = {"g": float(np.mean([a for a, _ in v])), "pt": float(np.mean([b for _, b in v]))}
        res["per_class"][k] = per
    res["frame_drop"], res["centre_drop"] = frame_test(net, x, y, size)
    return res


def run_one(spec, args):
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(spec["seed"])
    size, strides = RES[spec["res"]]
    data = load_data(args.split, size, device)
    net = make_net(strides, spec["pad"], spec["head"]).to(device)
    t0 = time.time()
    train(net, data, args.epochs, args.batch, args.lr, spec["seed"], spec["aug"] == "shift", spec.get("box", "none"))
    res = evaluate(net, data, size)
    res.update(spec=spec, train_s=time.time() - t0, device=device, epochs=args.epochs)
    return res


def specs(only, seeds):
    keys = list(FACTORS)
    out = []
    for seed in seeds:
        for combo in itertools.product(*(FACTORS[k] for k in keys)):
            s = dict(zip(keys, combo), seed=seed)
            if all(s.get(k) in (v.split("|") if k != "seed" else [int(x) for x in v.split("|")]) for k, v in only.items()):
                out.append(s)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split")
    ap.add_argument("--epochs", type=int, default=28)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--only", default="", help="comma list key=v1|v2 restricting the matrix (pad,res,head,aug,seed)")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--heads", default="", help="replace the head factor, e.g. lse4,lse8,gap")
    ap.add_argument("--boxes", default="", help="replace the box-loss factor, e.g. none,bce1,bceall1")
    ap.add_argument("--jobs", type=int, default=1, help="variants run in parallel (subprocesses)")
    ap.add_argument("--budget", type=float, default=1e9, help="seconds after which no new variant starts")
    ap.add_argument("--out", default="-")
    ap.add_argument("--one", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(run_one(json.loads(a.one), a)), flush=True)
        return
    only = dict(kv.split("=") for kv in a.only.split(",") if kv)
    if a.heads:
        FACTORS["head"] = a.heads.split(",")
    if a.boxes:
        FACTORS["box"] = a.boxes.split(",")
    todo = specs(only, [int(x) for x in a.seeds.split(",")])
    print("%d variants" % len(todo), file=sys.stderr)
    out = sys.stdout if a.out == "-" else open(a.out, "a")
    t0, running = time.time(), []
    base = [sys.executable, __file__, a.split, "--epochs", str(a.epochs), "--batch", str(a.batch), "--lr", str(a.lr)]
    while todo or running:
        while todo and len(running) < a.jobs and time.time() - t0 < a.budget:
            s = todo.pop(0)
            running.append(subprocess.Popen(base + ["--one", json.dumps(s)], stdout=subprocess.PIPE, text=True))
        if not running:
            break
        for p in list(running):
            if p.poll() is not None:
                running.remove(p)
                line = p.stdout.read().strip().splitlines()
                if line:
                    out.write(line[-1] + "\n")
                    out.flush()
                    r = json.loads(line[-1])
                    print("%5.0fs %s acc %.3f g %.3f pt %.3f frame %.3f centre %.3f" % (
                        time.time() - t0, r["spec"], r["test_acc"], r["per_class"]["gradcam"]["mean"]["g"],
                        r["per_class"]["gradcam"]["mean"]["pt"], r["frame_drop"], r["centre_drop"]),
                        file=sys.stderr, flush=True)
        time.sleep(0.5)
        if not todo:
            continue
        if time.time() - t0 >= a.budget:
            todo = []


if __name__ == "__main__":
    main()
