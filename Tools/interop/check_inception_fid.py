#!/usr/bin/env python3
"""Inception FID interop: pytorch-fid's own computation as the oracle for Gannet's
`gan-eval --features inception:…` path (FeatureNetwork+Inception), offline.

    PY Tools/interop/check_inception_fid.py DIR [--seed S]

PY needs torch, onnx and pytorch-fid 0.3.0 (e.g. /work/venv-torch; CI's .venv has no torch, so
Tools/interop/run.sh skips this check there). It writes into DIR:
  inception.onnx   Tools/reference/export_fid_inception.py --random-weights --seed S (pool3 + logits;
                   about 95 MB, generated here at test time: it is not committed)
  set_K.bin        image sets, float32 NCHW in [0, 1]: set_0 and set_1 five grey 28×28 images
                   each, set_2 three RGB 32×40 images (seeded numpy, smooth + noise)
  expected.json    for each set: its shape, pytorch-fid's pool3 features and the logits
                   (pool3·fcᵀ) from pytorch_fid.inception.InceptionV3([3]) — the SAME random
                   weights, with its own resize_input=True, normalize_input=True, fed the [0, 1]
                   images with grey repeated to 3 channels — and pytorch_fid.fid_score's
                   calculate_frechet_distance of set_0 vs set_1 (np.cov statistics) and of
                   set_0 vs set_2.
Then MetricsTests/InceptionInteropTests (GANNET_INCEPTION_INTEROP=DIR) runs Gannet on the same
files and asserts features, logits and FIDs within 1e-3 relative.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tools", "reference"))
import export_fid_inception  # noqa: E402


def images(rs, n, c, h, w):
    yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    out = np.empty((n, c, h, w), np.float32)
    for i in range(n):
        for k in range(c):
            f = rs.uniform(1, 6, size=2)
            smooth = 0.5 + 0.4 * np.sin(2 * np.pi * (f[0] * xx + f[1] * yy + rs.uniform()))
            out[i, k] = np.clip(smooth + 0.1 * rs.randn(h, w), 0, 1)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    net, fc = export_fid_inception.build(random_weights=True, seed=a.seed)
    export_fid_inception.export(net, fc, os.path.join(a.dir, "inception.onnx"), logits=True,
                                weights=f"random weights, seed {a.seed}")
    from pytorch_fid.fid_score import calculate_frechet_distance

    rs = np.random.RandomState(a.seed + 1)
    sets = [images(rs, 5, 1, 28, 28), images(rs, 5, 1, 28, 28), images(rs, 3, 3, 32, 40)]
    expected = {"sets": []}
    feats = []
    for k, x in enumerate(sets):
        x.tofile(os.path.join(a.dir, f"set_{k}.bin"))
        t = torch.from_numpy(x)
        if t.shape[1] == 1:
            t = t.repeat(1, 3, 1, 1)
        with torch.no_grad():
            pool3 = net(t)[0].squeeze(3).squeeze(2)
            logits = pool3 @ fc.t()
        f = pool3.numpy().astype(np.float64)
        feats.append(f)
        expected["sets"].append({"file": f"set_{k}.bin", "shape": list(x.shape[1:]), "count": int(x.shape[0]),
                                 "features": f.ravel().tolist(), "logits": logits.numpy().astype(np.float64).ravel().tolist()})

    def fid(p, q):
        return float(calculate_frechet_distance(p.mean(0), np.cov(p, rowvar=False), q.mean(0), np.cov(q, rowvar=False)))

    expected["fid_0_1"] = fid(feats[0], feats[1])
    expected["fid_0_2"] = fid(feats[0], feats[2])
    with open(os.path.join(a.dir, "expected.json"), "w") as f:
        json.dump(expected, f)
    scale = max(float(np.abs(f).max()) for f in feats)
    print(f"wrote {a.dir}: pool3 max |feature| {scale:.4g}, FID(0,1) {expected['fid_0_1']:.6g}, FID(0,2) {expected['fid_0_2']:.6g}")


if __name__ == "__main__":
    main()
