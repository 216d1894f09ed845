#!/usr/bin/python3
"""Markdown table of a localization matrix (bench/loc_matrix.py output), one row per variant, seeds averaged,
sorted by Grad-CAM's mean energy gain.

  python3 bench/loc_table.py docs/experiments/loc_matrix_h100.jsonl
"""
import collections
import json
import sys

CLASSES = ["crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"]
SHORT = ["cr", "in", "pa", "pi", "ro", "sc"]


def main(path):
    rows = collections.defaultdict(list)
    for line in open(path):
        r = json.loads(line)
        s = r["spec"]
        rows[(s["pad"], s["res"], s["head"], s["aug"], s.get("box", "none"))].append(r)
    mean = lambda rs, f: sum(f(x) for x in rs) / len(rs)
    g = lambda m, c: (lambda x: x["per_class"][m][c]["g"])
    print("| padding | input x last map | head | augmentation | box loss | seeds | test acc | val acc | Grad-CAM g | "
          "g per class (%s) | pointing | LayerCAM g | fused l3+l4 g | frame drop | centre drop |" % "/".join(SHORT))
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    order = sorted(rows, key=lambda k: -mean(rows[k], g("gradcam", "mean")))
    for k in order:
        rs = rows[k]
        per = "/".join("%.2f" % mean(rs, g("gradcam", c)) for c in CLASSES)
        print("| %s | %s | %s | %s | %s | %d | %.3f | %.3f | %.3f | %s | %.3f | %.3f | %.3f | %.3f | %.3f |" % (
            k[0], k[1].replace("s", "", 1), k[2], k[3], k[4], len(rs), mean(rs, lambda x: x["test_acc"]),
            mean(rs, lambda x: x["val_acc"]),
            mean(rs, g("gradcam", "mean")), per, mean(rs, lambda x: x["per_class"]["gradcam"]["mean"]["pt"]),
            mean(rs, g("layercam", "mean")), mean(rs, g("gradcam@layer3+layer4", "mean")),
            mean(rs, lambda x: x["frame_drop"]), mean(rs, lambda x: x["centre_drop"])))


if __name__ == "__main__":
    main(sys.argv[1])
