#!/usr/bin/python3
"""PyTorch reference for the gradcam engine (github.com/neucam/neucam/gradcam).

Usage: /usr/bin/python3 compare.py DIR
DIR holds what bench/cam/export_test.go wrote: the tiny net's weights (<scope>_<name>.npy, GoMLX layouts), the
input images (images.npy [N,S,S]), the engine's probabilities (probs.npy) and raw maps at layer resolution
(maps_<method>_<layer>.npy [N,K,h,w]). This script rebuilds the same net in PyTorch, recomputes every map with the
formulas written out plainly (no pytorch-grad-cam dependency), and prints a JSON report of per-map Pearson r
between the engine and PyTorch, per method and layer. Exit status 1 if any method has a map with r < 0.99.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_grad_enabled(True)
DT = torch.float64  # reference in float64: differences then measure the engine's float32 error only


def load(d, name):
    return torch.from_numpy(np.load(os.path.join(d, name)).astype(np.float64))


class TinyNet:
    """conv3x3 pad 1 -> relu "stem"; conv3x3 stride 2 pad 1 -> relu "layer1"; conv3x3 pad 1 -> relu "layer2";
    mean over h,w; dense. GoMLX kernels are [kh,kw,in,out] -> PyTorch [out,in,kh,kw]."""

    def __init__(self, d):
        self.convs = []
        for name, stride in (("conv1", 1), ("conv2", 2), ("conv3", 1)):
            w = load(d, f"{name}_weights.npy").permute(3, 2, 0, 1).contiguous()
            self.convs.append((w, load(d, f"{name}_bias.npy"), stride))
        self.head_w = load(d, "head_weights.npy")  # [C,K]
        self.head_b = load(d, "head_bias.npy")

    def features(self, x):
        feats, names = {}, ("stem", "layer1", "layer2")
        for (w, b, s), n in zip(self.convs, names):
            x = F.relu(F.conv2d(x, w, b, stride=s, padding=1))
            feats[n] = x
        return feats

    def logits_from(self, l2):
        return l2.mean(dim=(2, 3)) @ self.head_w + self.head_b

    def logits_from_layer(self, layer, a):
        """The logits computed from feature map `layer` (for AblationCAM)."""
        names = ("stem", "layer1", "layer2")
        for (w, b, s), n in list(zip(self.convs, names))[names.index(layer) + 1:]:
            a = F.relu(F.conv2d(a, w, b, stride=s, padding=1))
        return self.logits_from(a)

    def __call__(self, x):
        feats = self.features(x)
        return self.logits_from(feats["layer2"]), feats


def grads_all_classes(net, x, layer, score=None):
    """A [N,C,h,w] and dscore_k/dA for every class k: [N,K,C,h,w]; score(logits) [N,K] defaults to the logits."""
    logits, feats = net(x.clone().requires_grad_(True))  # weights are plain tensors: the graph hangs off x
    a = feats[layer]
    s = logits if score is None else score(logits)
    gs = [torch.autograd.grad(s[:, k].sum(), a, retain_graph=True)[0] for k in range(logits.shape[1])]
    return a.detach(), torch.stack(gs, 1)


def finer_scores(logits):
    """pytorch-grad-cam's FinerWeightedTarget (alpha 1) with each class k as the main one, compared with the 3
    classes of nearest logit (argsort of |z - z_k|, positions 1..3)."""
    out = []
    for k in range(logits.shape[1]):
        cols = []
        for i in range(logits.shape[0]):
            z = logits[i]
            order = np.argsort(np.abs(z.detach().numpy() - z[k].item()), kind="stable")
            comp = [int(j) for j in order[1:4]]
            prob = torch.softmax(z, dim=-1)
            num = sum(prob[j] * (z[k] - z[j]) for j in comp)
            cols.append(num / (sum(prob[j] for j in comp) + 1e-9))
        out.append(torch.stack(cols))
    return torch.stack(out, 1)


def ablation(net, a, layer):
    """AblationCAM: w_kc = (z_k - z_k with channel c of A zeroed) / z_k."""
    with torch.no_grad():
        z = net.logits_from_layer(layer, a)  # [N,K]
        ws = []
        for c in range(a.shape[1]):
            ab = a.clone()
            ab[:, c] = 0
            ws.append((z - net.logits_from_layer(layer, ab)) / z)
        return weighted(a, torch.stack(ws, 2))  # [N,K,C]


def fem(a, k=2):
    """FEM as pytorch-grad-cam's fem.py: binary mask A > mean + k std (population std) per channel."""
    means = a.mean(dim=(2, 3), keepdim=True)
    stds = a.std(dim=(2, 3), unbiased=False, keepdim=True)
    w = (a > means + k * stds).to(a.dtype).mean(dim=(2, 3))  # [N,C]
    return (w[:, :, None, None] * a).sum(1)[:, None]  # [N,1,h,w]


def safe_div(num, den):
    return torch.where(den != 0, num / torch.where(den != 0, den, torch.ones_like(den)), torch.zeros_like(num))


def weighted(a, w):  # a [N,C,h,w], w [N,K,C] -> [N,K,h,w]
    return torch.einsum("nchw,nkc->nkhw", a, w)


def eigen(a):
    """First principal component projection of the position-centred activations, sign fixed to correlate
    positively with the channel-mean map (pytorch-grad-cam get_2d_projection + our sign convention)."""
    n, c, h, w = a.shape
    out = []
    for i in range(n):
        x = a[i].reshape(c, h * w).T  # [hw, C]
        xc = x - x.mean(0, keepdim=True)
        _, _, vt = torch.linalg.svd(xc, full_matrices=False)
        proj = xc @ vt[0]
        mean_map = x.mean(1)
        if torch.dot(proj, mean_map - mean_map.mean()) < 0:
            proj = -proj
        out.append(proj.reshape(h, w))
    return torch.stack(out)[:, None]  # [N,1,h,w]


def scorecam(net, x, a):
    n, c, h, w = a.shape
    size = x.shape[-1]
    up = F.interpolate(a, size=(size, size), mode="bilinear", align_corners=False)  # [N,C,S,S]
    lo = up.amin(dim=(2, 3), keepdim=True)
    hi = up.amax(dim=(2, 3), keepdim=True)
    masks = safe_div(up - lo, hi - lo)
    with torch.no_grad():
        probs = torch.stack([F.softmax(net(x * masks[:, ch:ch + 1])[0], dim=1) for ch in range(c)], 2)  # [N,K,C]
    return weighted(a, probs)


class GuidedReLU(torch.autograd.Function):
    """pytorch-grad-cam's GuidedBackpropReLU: forward relu; backward grad * (input > 0) * (grad > 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (x > 0).to(grad.dtype) * (grad > 0).to(grad.dtype)


def input_grads(net, x, guided=False):
    """d logit_k / d x for every class: [N,K,S,S]."""
    x = x.clone().requires_grad_(True)
    h = x
    relu = GuidedReLU.apply if guided else F.relu
    for (w, b, s) in net.convs:
        h = relu(F.conv2d(h, w, b, stride=s, padding=1))
    logits = net.logits_from(h)
    gs = [torch.autograd.grad(logits[:, k].sum(), x, retain_graph=True)[0][:, 0] for k in range(logits.shape[1])]
    return torch.stack(gs, 1)


def integrated_gradients(net, x, n_steps=9):
    """Captum IntegratedGradients, method riemann_trapezoid, baseline 0: alphas linspace(0,1,n), step sizes 1/(n-1)
    halved at both ends; attribution x * sum_i step_i grad(alpha_i x); then the positive part."""
    alphas = torch.linspace(0, 1, n_steps, dtype=DT)
    steps = [1 / (n_steps - 1)] * n_steps
    steps[0] = steps[-1] = 0.5 / (n_steps - 1)
    total = sum(s * input_grads(net, a * x) for a, s in zip(alphas, steps))
    return F.relu(total * x[:, :1])


def occlusion(net, x, win=4, stride=2):
    """Captum Occlusion (baseline 0) on the softmax output: per pixel, the mean over the windows covering it of
    p(x) - p(x occluded); then the positive part."""
    n, _, size, _ = x.shape
    with torch.no_grad():
        p = F.softmax(net(x)[0], 1)  # [N,K]
        total = torch.zeros(n, p.shape[1], size, size, dtype=DT)
        count = torch.zeros(size, size, dtype=DT)
        for y0 in range(0, size - win + 1, stride):
            for x0 in range(0, size - win + 1, stride):
                xo = x.clone()
                xo[:, :, y0:y0 + win, x0:x0 + win] = 0
                d = p - F.softmax(net(xo)[0], 1)
                total[:, :, y0:y0 + win, x0:x0 + win] += d[:, :, None, None]
                count[y0:y0 + win, x0:x0 + win] += 1
    return F.relu(torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total)))


def reference(net, x, method, layer):
    if method == "guided-backprop":
        return input_grads(net, x, guided=True).abs()
    if method == "integrated-gradients":
        return integrated_gradients(net, x)
    if method == "occlusion":
        return occlusion(net, x)
    if method == "cam":
        a = net.features(x)[layer].detach()
        w = net.head_w.T[None].expand(a.shape[0], -1, -1)
        return F.relu(weighted(a, w))
    if method == "eigencam":
        a = net.features(x)[layer].detach()
        return F.relu(eigen(a)).expand(-1, net.head_w.shape[1], -1, -1)
    if method == "scorecam":
        a = net.features(x)[layer].detach()
        return F.relu(scorecam(net, x, a))
    if method == "ablationcam":
        a = net.features(x)[layer].detach()
        return F.relu(ablation(net, a, layer))
    if method == "fem":
        a = net.features(x)[layer].detach()
        return F.relu(fem(a)).expand(-1, net.head_w.shape[1], -1, -1)
    if method == "finercam":
        a, g = grads_all_classes(net, x, layer, finer_scores)
        return F.relu(weighted(a, g.mean(dim=(3, 4))))
    a, g = grads_all_classes(net, x, layer)  # [N,C,h,w], [N,K,C,h,w]
    if method == "eigengradcam":
        ga = g * a[:, None]  # [N,K,C,h,w]
        n, k = ga.shape[:2]
        return F.relu(eigen(ga.reshape(n * k, *ga.shape[2:])).reshape(n, k, *ga.shape[3:]))
    a5 = a[:, None]
    if method == "gradcam":
        m = weighted(a, g.mean(dim=(3, 4)))
    elif method == "gradcampp":
        g2, g3 = g ** 2, g ** 3
        s = a.sum(dim=(2, 3))[:, None, :, None, None]
        aij = safe_div(g2, 2 * g2 + s * g3)
        m = weighted(a, (F.relu(g) * aij).sum(dim=(3, 4)))
    elif method == "xgradcam":
        s = a.sum(dim=(2, 3))[:, None, :, None, None]
        m = weighted(a, safe_div(g * a5, s).sum(dim=(3, 4)))
    elif method == "hirescam":
        m = (g * a5).sum(2)
    elif method == "layercam":
        m = (F.relu(g) * a5).sum(2)
    else:
        raise ValueError(method)
    return F.relu(m)


def pearson(u, v):
    u, v = u - u.mean(), v - v.mean()
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return None
    return float(np.dot(u, v) / (nu * nv))


def main():
    d = sys.argv[1]
    net = TinyNet(d)
    x = load(d, "images.npy")[:, None]  # [N,1,S,S]
    logits, _ = net(x)
    probs = F.softmax(logits, 1).detach().numpy()
    report = {"probs_max_abs_diff": float(np.abs(probs - np.load(os.path.join(d, "probs.npy"))).max()), "methods": {}}
    ok = True
    for f in sorted(os.listdir(d)):
        if not f.startswith("maps_"):
            continue
        method, layer = f[len("maps_"):-len(".npy")].split("_", 1)
        got = np.load(os.path.join(d, f)).astype(np.float64)
        want = reference(net, x, method, layer).detach().numpy()
        rs, both_zero = [], 0
        rel = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))
        for i in range(got.shape[0]):
            for k in range(got.shape[1]):
                u, v = got[i, k].ravel(), want[i, k].ravel()
                r = pearson(u, v)
                if r is None:
                    # A constant map: only a match if the other one is constant too (same all-zero ReLU output).
                    if np.ptp(u) <= 1e-6 * max(1e-30, np.abs(v).max()) and np.ptp(v) <= 1e-6 * max(1e-30, np.abs(u).max()):
                        both_zero += 1
                        continue
                    r = 0.0
                rs.append(r)
        stats = {"min_r": min(rs) if rs else 0.0, "mean_r": float(np.mean(rs)) if rs else 0.0,
                 "maps": len(rs), "both_zero": both_zero, "max_rel_err": rel}
        ok = ok and stats["min_r"] >= 0.99 and stats["maps"] > 0
        report["methods"][f"{method}@{layer}"] = stats
    print(json.dumps(report, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
