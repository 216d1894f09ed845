#!/usr/bin/python3
"""Fails when an executed notebook has an error output or shows no image.

Usage: check_notebook.py EXECUTED.ipynb [...]
An image is an image/png output or an HTML output with an <img> tag (GoNB displays images as HTML).
"""
import sys

import nbformat


def check(path):
    nb = nbformat.read(path, as_version=4)
    errors, images = [], 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors.append(f"cell {i}: {out.get('ename')}: {out.get('evalue')}")
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = out.get("text", "")
                if "panic:" in text or "exit status" in text:
                    errors.append(f"cell {i}: stderr: {text.strip()[:300]}")
            data = out.get("data", {})
            if "image/png" in data or "<img" in str(data.get("text/html", "")):
                images += 1
    problems = list(errors)
    if images == 0:
        problems.append("no image shown")
    for p in problems:
        print(f"{path}: {p}")
    if not problems:
        print(f"{path}: ok ({images} image outputs)")
    return not problems


if __name__ == "__main__":
    ok = all([check(p) for p in sys.argv[1:]])
    sys.exit(0 if ok else 1)
