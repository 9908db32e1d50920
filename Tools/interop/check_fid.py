#!/usr/bin/env python3
"""Metrics fixtures and the scipy FID oracle for Gannet's Metrics module.

Writes Tests/Fixtures/metrics/features.bin (little-endian float64 arrays, concatenated in the
order of `ARRAYS`) and Tests/Fixtures/metrics/expected.json (pytorch-fid's scipy.linalg.sqrtm
FID for each case, plus the PRDC reference counts computed with the prdc package's rules).
MetricsTests reads both, so ordinary test runs need no Python.

    .venv/bin/python Tools/interop/check_fid.py            # regenerate the fixtures
    .venv/bin/python Tools/interop/check_fid.py --verify
        # check the committed fixtures against a fresh scipy computation (Tools/interop/run.sh)
    .venv/bin/python Tools/interop/check_fid.py --check A.bin B.bin D
        # FID (scipy route) of two raw float32 row-major feature files of width D

The draws follow shared/reference/gan-metrics.md §6 (numpy legacy RandomState(0), in order).
"""
import json
import os
import sys

import numpy as np
from scipy import linalg

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "metrics")


def fid_scipy(a, b, eps=1e-6):
    """pytorch-fid's calculate_frechet_distance on features a, b (np.cov: unbiased)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    diff = mu1 - mu2
    covmean = linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(covmean).all():
        off = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + off).dot(s2 + off))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("Imaginary component %s" % np.max(np.abs(covmean.imag)))
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def fid_symmetric(a, b):
    """The symmetric-eigen route (what Gannet implements), for comparison."""
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    lam, v = np.linalg.eigh(s1)
    A = (v * np.sqrt(np.maximum(lam, 0))) @ v.T
    mu = np.linalg.eigvalsh(A @ s2 @ A)
    diff = a.mean(0) - b.mean(0)
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.maximum(mu, 0)).sum())


def prdc(real, fake, k):
    """clovaai/generative-evaluation-prdc rules (Euclidean, strict <), all with the same k."""
    def dist(x, y):
        return np.sqrt(np.maximum((x * x).sum(1)[:, None] - 2 * x @ y.T + (y * y).sum(1)[None, :], 0))
    rr = np.sort(dist(real, real), axis=1)[:, k]
    ff = np.sort(dist(fake, fake), axis=1)[:, k]
    d = dist(real, fake)
    precision = (d < rr[:, None]).any(axis=0).mean()
    recall = (d < ff[None, :]).any(axis=1).mean()
    density = (1.0 / k) * (d < rr[:, None]).sum(axis=0).mean()
    coverage = (d.min(axis=1) < rr).mean()
    return dict(precision=float(precision), recall=float(recall), density=float(density), coverage=float(coverage))


def make_arrays():
    rs = np.random.RandomState(0)
    arrays = {}
    arrays["fid16_a"] = rs.randn(500, 16)
    arrays["fid16_b"] = rs.randn(500, 16) * 1.2 + 0.3
    arrays["rank_a"] = rs.randn(10, 32)
    arrays["rank_b"] = rs.randn(10, 32)
    arrays["prdc_real"] = rs.randn(300, 8)
    arrays["prdc_good"] = rs.randn(300, 8)
    arrays["prdc_collapsed"] = rs.randn(300, 8) * 0.1
    # An extra, correlated case closer to classifier features (d = 48, non-diagonal covariances).
    rs2 = np.random.RandomState(1)
    mix_a = rs2.randn(48, 48) / 7
    mix_b = mix_a + rs2.randn(48, 48) / 28
    arrays["corr_a"] = rs2.randn(500, 48) @ mix_a
    arrays["corr_b"] = rs2.randn(500, 48) @ mix_b + 0.05
    return arrays


def expected_for(arrays, layout):
    return {
        "layout": layout,
        "fid": {
            case: {"scipy": fid_scipy(arrays[case + "_a"], arrays[case + "_b"]),
                   "symmetric": fid_symmetric(arrays[case + "_a"], arrays[case + "_b"])}
            for case in ["fid16", "rank", "corr"]
        },
        "prdc_k3_strict": {
            "good": prdc(arrays["prdc_real"], arrays["prdc_good"], 3),
            "collapsed": prdc(arrays["prdc_real"], arrays["prdc_collapsed"], 3),
        },
    }


def verify():
    """Checks the committed fixtures against a fresh computation; exit status 1 on a mismatch."""
    arrays = make_arrays()
    blob = b"".join(a.astype("<f8").tobytes() for a in arrays.values())
    with open(os.path.join(OUT, "features.bin"), "rb") as f:
        if f.read() != blob:
            print("FAIL features.bin differs from the numpy draws")
            return 1
    with open(os.path.join(OUT, "expected.json")) as f:
        committed = json.load(f)
    layout = [{"name": n, "rows": a.shape[0], "cols": a.shape[1]} for n, a in arrays.items()]
    fresh = expected_for(arrays, layout)
    if committed["layout"] != layout:
        print("FAIL expected.json layout differs")
        return 1
    worst = 0.0
    for sect in ["fid", "prdc_k3_strict"]:
        for case, vals in fresh[sect].items():
            for key, v in vals.items():
                c = committed[sect][case][key]
                rel = abs(c - v) / max(abs(v), 1e-12)
                worst = max(worst, rel)
                if rel > 1e-6:
                    print(f"FAIL {sect}.{case}.{key}: committed {c}, scipy now {v}")
                    return 1
    print(f"fixtures match scipy FID and PRDC (worst relative difference {worst:.2g})")
    return 0


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--check":
        d = int(sys.argv[4])
        a = np.fromfile(sys.argv[2], dtype="<f4").astype(np.float64).reshape(-1, d)
        b = np.fromfile(sys.argv[3], dtype="<f4").astype(np.float64).reshape(-1, d)
        print(json.dumps({"fid_scipy": fid_scipy(a, b), "fid_symmetric": fid_symmetric(a, b)}))
        return
    if len(sys.argv) == 2 and sys.argv[1] == "--verify":
        sys.exit(verify())
    arrays = make_arrays()
    os.makedirs(OUT, exist_ok=True)
    layout = []
    with open(os.path.join(OUT, "features.bin"), "wb") as f:
        for name, a in arrays.items():
            a.astype("<f8").tofile(f)
            layout.append({"name": name, "rows": a.shape[0], "cols": a.shape[1]})
    expected = expected_for(arrays, layout)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(json.dumps(expected["fid"], indent=1))
    print(json.dumps(expected["prdc_k3_strict"], indent=1))


if __name__ == "__main__":
    main()
