#!/usr/bin/python3
"""pytorch-grad-cam's formulas on the shipped NEU model, against the gradcam engine's maps.

Usage: /usr/bin/python3 compare.py DIR
DIR holds what export_test.go wrote: the shipped model's weights (DIR/weights, resnet.Classifier.ExportNumpy), the
test images (images.npy [N,S,S]) and the engine's raw maps at layer resolution (maps_<method>_<layer>.npy [N,K,h,w]).
The weights go into the PyTorch twin of the model (../torch_twin.py); every map is recomputed here with
pytorch-grad-cam 1.5's formulas, written as its source writes them (base_cam.py get_cam_image, grad_cam.py,
grad_cam_plusplus.py, xgrad_cam.py, hirescam.py, layer_cam.py, eigen_cam.py + utils/svd_on_activations.py,
score_cam.py, ablation_cam.py + ablation_layer.py, eigen_grad_cam.py, finer_cam.py + FinerWeightedTarget, fem.py):
numpy float32 activations and gradients from forward/backward hooks, one ClassifierOutputTarget
(the logit) per class. Prints a JSON report of per-map Pearson r per method and layer; exit status 1 if any map
has r < 0.999 (EigenCAM: unless it matches the SVD's opposite sign, counted in sign_flipped; see README.md).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch_twin  # noqa: E402

MIN_R = 0.999


def load_net(d):
    cfg = torch_twin.read_config(os.path.join(d, "weights", "config.txt"))
    net = torch_twin.NEUResNet(cfg)
    torch_twin.load_gomlx_weights(net, os.path.join(d, "weights"))
    return net.eval()


def layer_module(net, name):
    return net.layers[int(name[len("layer"):]) - 1]


class FinerWeightedTarget:  # utils/model_targets.py
    def __init__(self, main_category, comparison_categories, alpha):
        self.main_category = main_category
        self.comparison_categories = comparison_categories
        self.alpha = alpha

    def __call__(self, model_output):
        select = lambda idx: model_output[idx] if model_output.ndim == 1 else model_output[..., idx]  # noqa: E731
        wn = select(self.main_category)
        prob = torch.softmax(model_output, dim=-1)
        weights = [prob[idx] if model_output.ndim == 1 else prob[..., idx] for idx in self.comparison_categories]
        numerator = sum(w * (wn - self.alpha * select(idx)) for w, idx in zip(weights, self.comparison_categories))
        denominator = sum(weights)
        return numerator / (denominator + 1e-9)


def finer_targets(net, x, k):
    """finer_cam.py forward with target_idx=k, comparison_categories [1,2,3], alpha 1."""
    with torch.no_grad():
        output_data = net(x).numpy()
    target_logits = output_data[:, k]
    sorted_indices = np.argsort(np.abs(output_data - target_logits[:, None]), axis=-1)
    return [FinerWeightedTarget(int(sorted_indices[i, 0]), [int(sorted_indices[i, idx]) for idx in [1, 2, 3]], 1)
            for i in range(output_data.shape[0])]


def activations_and_grads(net, x, layer, k, targets=None):
    """pytorch-grad-cam's ActivationsAndGradients: the layer's output and d target / d output (default target: the
    logit k), as numpy float32."""
    store = {}

    def hook(_, __, out):
        store["a"] = out
        out.register_hook(lambda g: store.__setitem__("g", g))

    h = layer_module(net, layer).register_forward_hook(hook)
    out = net(x)
    net.zero_grad()
    if targets is None:
        out[:, k].sum().backward()
    else:
        sum(t(o) for t, o in zip(targets, out)).backward()
    h.remove()
    return store["a"].detach().numpy(), store["g"].numpy()


def get_2d_projection(activation_batch):  # utils/svd_on_activations.py
    projections = []
    for activations in activation_batch:
        reshaped_activations = (activations).reshape(activations.shape[0], -1).transpose()
        reshaped_activations = reshaped_activations - reshaped_activations.mean(axis=0)
        U, S, VT = np.linalg.svd(reshaped_activations, full_matrices=True)
        projection = reshaped_activations @ VT[0, :]
        projection = projection.reshape(activations.shape[1:])
        projections.append(projection)
    return np.float32(projections)


def cam_weights(method, activations, grads):
    if method == "gradcam":  # grad_cam.py
        return np.mean(grads, axis=(2, 3))
    if method == "gradcampp":  # grad_cam_plusplus.py
        grads_power_2 = grads ** 2
        grads_power_3 = grads_power_2 * grads
        sum_activations = np.sum(activations, axis=(2, 3))
        eps = 0.000001
        aij = grads_power_2 / (2 * grads_power_2 + sum_activations[:, :, None, None] * grads_power_3 + eps)
        aij = np.where(grads != 0, aij, 0)
        weights = np.maximum(grads, 0) * aij
        return np.sum(weights, axis=(2, 3))
    if method == "xgradcam":  # xgrad_cam.py
        sum_activations = np.sum(activations, axis=(2, 3))
        eps = 1e-7
        weights = grads * activations / (sum_activations[:, :, None, None] + eps)
        return weights.sum(axis=(2, 3))
    raise ValueError(method)


_forward_cache = {}


def cached_outputs(key, run):
    """The model outputs of one set of perturbed inputs, shared by the K targets (each target only reads its own
    column of the same outputs, so this changes nothing in pytorch-grad-cam's formulas, only the run time)."""
    if key not in _forward_cache:
        _forward_cache[key] = run()
    return _forward_cache[key]


def score_cam_weights(net, input_tensor, activations, k, layer):  # score_cam.py with ClassifierOutputTarget(k)
    with torch.no_grad():
        upsample = torch.nn.UpsamplingBilinear2d(size=input_tensor.shape[-2:])
        upsampled = upsample(torch.from_numpy(activations))
        maxs = upsampled.view(upsampled.size(0), upsampled.size(1), -1).max(dim=-1)[0]
        mins = upsampled.view(upsampled.size(0), upsampled.size(1), -1).min(dim=-1)[0]
        maxs, mins = maxs[:, :, None, None], mins[:, :, None, None]
        upsampled = (upsampled - mins) / (maxs - mins + 1e-8)
        input_tensors = input_tensor[:, None, :, :] * upsampled[:, :, None, :, :]
        def run():
            return [torch.cat([net(tensor[i:i + 16]) for i in range(0, tensor.size(0), 16)]) for tensor in input_tensors]

        outputs = cached_outputs(("scorecam", layer), run)
        scores = []
        for out in outputs:
            scores.extend(o[k].item() for o in out)
        scores = torch.Tensor(scores).view(activations.shape[0], activations.shape[1])
        return torch.nn.Softmax(dim=-1)(scores).numpy()


def ablation_cam_weights(net, input_tensor, layer, activations, k):
    """ablation_cam.py + ablation_layer.py (all channels, batch 32), target ClassifierOutputTarget(k): the layer's
    output replaced by the cached activations with one channel ablated (0 when the layer's min is 0)."""
    module = layer_module(net, layer)
    acts = torch.from_numpy(activations)
    def run():
        outs = []
        for b in range(acts.shape[0]):
            per = []
            for i in range(0, acts.shape[1], 32):
                chans = list(range(i, min(i + 32, acts.shape[1])))
                output = acts[b].clone().unsqueeze(0).repeat(len(chans), 1, 1, 1)
                for j, c in enumerate(chans):
                    if torch.min(output) == 0:
                        output[j, c, :] = 0
                    else:
                        output[j, c, :] = torch.min(output) - 1e7
                h = module.register_forward_hook(lambda _, __, ___, o=output: o)
                per.append(net(input_tensor[b:b + 1].repeat(len(chans), 1, 1, 1)))
                h.remove()
            outs.append(torch.cat(per))
        return outs

    with torch.no_grad():
        original_scores = np.float32([o[k].item() for o in net(input_tensor)])
        weights = []
        for out in cached_outputs(("ablationcam", layer), run):
            weights.extend(o[k].item() for o in out)
    weights = np.float32(weights).reshape(activations.shape[:2])
    original_scores = original_scores[:, None]
    return (original_scores - weights) / original_scores


def fem_cam(activations, k=2):  # fem.py
    axis = (2, 3)
    means = np.mean(activations, axis=axis)
    stds = np.std(activations, axis=axis)
    th = means + k * stds
    weights_shape = list(means.shape) + [1] * len(axis)
    th = th.reshape(weights_shape)
    binary_mask = activations > th
    weights = binary_mask.mean(axis=axis)
    return (weights.reshape(weights_shape) * activations).sum(axis=1)


def cam_image(net, x, method, layer, k, sign=1):
    """base_cam.py get_cam_image + the ReLU of compute_cam_per_layer, at layer resolution (before scale_cam_image).
    sign=-1 flips EigenCAM's SVD sign (to tell a sign difference from a wrong map)."""
    targets = finer_targets(net, x, k) if method == "finercam" else None
    a, g = activations_and_grads(net, x, layer, k, targets)
    if method == "hirescam":  # hirescam.py
        cam = (g * a).sum(axis=1)
    elif method == "layercam":  # layer_cam.py
        cam = (np.maximum(g, 0) * a).sum(axis=1)
    elif method == "eigencam":  # eigen_cam.py
        cam = sign * get_2d_projection(a)
    elif method == "eigengradcam":  # eigen_grad_cam.py
        cam = sign * get_2d_projection(g * a)
    elif method == "fem":
        cam = fem_cam(a)
    elif method == "finercam":  # finer_cam.py, base_method GradCAM
        cam = (np.mean(g, axis=(2, 3))[:, :, None, None] * a).sum(axis=1)
    elif method == "ablationcam":
        cam = (ablation_cam_weights(net, x, layer, a, k)[:, :, None, None] * a).sum(axis=1)
    else:
        w = score_cam_weights(net, x, a, k, layer) if method == "scorecam" else cam_weights(method, a, g)
        cam = (w[:, :, None, None] * a).sum(axis=1)
    return np.maximum(cam, 0)


def pearson(u, v):
    u, v = u - u.mean(), v - v.mean()
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return None
    return float(np.dot(u, v) / (nu * nv))


def map_r(u, v):
    """Pearson r of two maps; None when both are constant (the same all-zero ReLU output), 0 when only one is."""
    r = pearson(u, v)
    if r is None:
        if np.ptp(u) <= 1e-6 * max(1e-30, np.abs(v).max()) and np.ptp(v) <= 1e-6 * max(1e-30, np.abs(u).max()):
            return None
        return 0.0
    return r


def compare(got, want, flipped=None):
    """Per-map Pearson r statistics. flipped (EigenCAM): the maps with the SVD's opposite sign; a map below MIN_R
    that matches those with r >= MIN_R is counted in sign_flipped."""
    rs, both_zero, sign_flipped = [], 0, 0
    for i in range(got.shape[0]):
        for k in range(got.shape[1]):
            u, v = got[i, k].ravel().astype(np.float64), want[i, k].ravel().astype(np.float64)
            r = map_r(u, v)
            if r is None:
                both_zero += 1
                continue
            if r < MIN_R and flipped is not None:
                r_alt = map_r(u, flipped[i, k].ravel().astype(np.float64))
                sign_flipped += int(r_alt is None or r_alt >= MIN_R)
            rs.append(r)
    return {"min_r": min(rs) if rs else 0.0, "mean_r": float(np.mean(rs)) if rs else 0.0,
            "below": int(sum(r < MIN_R for r in rs)), "sign_flipped": sign_flipped, "maps": len(rs),
            "both_zero": both_zero}


def main():
    d = sys.argv[1]
    net = load_net(d)
    x = torch.from_numpy(np.load(os.path.join(d, "images.npy")).astype(np.float32))[:, None]  # [N,1,S,S]
    report, ok = {"methods": {}}, True
    for f in sorted(os.listdir(d)):
        if not f.startswith("maps_"):
            continue
        method, layer = f[len("maps_"):-len(".npy")].split("_", 1)
        got = np.load(os.path.join(d, f))
        want = np.stack([cam_image(net, x, method, layer, k) for k in range(got.shape[1])], 1)
        flipped = None
        if method in ("eigencam", "eigengradcam"):
            flipped = np.stack([cam_image(net, x, method, layer, k, -1) for k in range(got.shape[1])], 1)
        stats = compare(got, want, flipped)
        ok = ok and stats["below"] == stats["sign_flipped"] and stats["maps"] > 0
        report["methods"][f"{method}@{layer}"] = stats
    print(json.dumps(report, indent=1))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
