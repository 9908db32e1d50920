#!/usr/bin/env python3
"""ONNX Runtime peer of `gan-sample MODEL --n 64`: latents -> generator -> 8-column PNG grid.

Usage: .venv/bin/python Tools/bench/ort_sample.py MODEL [--n 64] [--nrow 8] [--padding 2]
       [--seed 0] [--threads T] [--out ort_samples.png]
Time it from process start to PNG written, e.g.:
  /usr/bin/time -f %e .venv/bin/python Tools/bench/ort_sample.py /tmp/g.pb
The latent input is the first graph input (float [N,Z] or [N,Z,1,1]); output range [0,1] for a
final Sigmoid, else [-1,1] (as gan-sample infers). Prints the model run time to stderr too.
"""
import argparse
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--nrow", type=int, default=8)
    ap.add_argument("--padding", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", default="ort_samples.png")
    a = ap.parse_args()
    opts = ort.SessionOptions()
    if a.threads:
        opts.intra_op_num_threads = a.threads
    sess = ort.InferenceSession(a.model, opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    zshape = [a.n] + [d for d in inp.shape[1:]]
    last = onnx.load(a.model, load_external_data=False).graph.node[-1].op_type
    lo, hi = (0.0, 1.0) if last == "Sigmoid" else (-1.0, 1.0)
    z = np.random.default_rng(a.seed).standard_normal(zshape).astype(np.float32)
    t0 = time.perf_counter()
    y = sess.run(None, {inp.name: z})[0]
    run_ms = (time.perf_counter() - t0) * 1000
    n, c, h, w = y.shape
    p, cols = a.padding, min(a.nrow, n)
    rows = (n + a.nrow - 1) // a.nrow
    grid = np.zeros((rows * (h + p) + p, cols * (w + p) + p, c), dtype=np.uint8)
    px = np.clip(np.rint((y - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
    for i in range(n):
        r, k = divmod(i, a.nrow)
        grid[p + r * (h + p):p + r * (h + p) + h, p + k * (w + p):p + k * (w + p) + w] = px[i]
    Image.fromarray(grid[:, :, 0] if c == 1 else grid).save(a.out)
    print(f"ort run {run_ms:.1f} ms, wrote {a.out} {grid.shape[1]}x{grid.shape[0]}", file=sys.stderr)


if __name__ == "__main__":
    main()
