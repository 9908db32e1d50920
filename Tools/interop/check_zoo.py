#!/usr/bin/env python3
"""Runs every model that export_zoo.py wrote in Gannet and in ONNX Runtime and compares them.

    check_zoo.py DIR [--batches 2,3] [--rtol 1e-4] [--atol 1e-5] [--gannet PATH] [KEY ...]

DIR holds the NAME_EXPORTER.onnx files and manifest.json of Tools/interop/export_zoo.py. For
every file (or the KEYs given, e.g. resnet18_ts17) and every batch size B (a model exported at
a fixed batch runs only at that batch): seeded inputs ~ N(0, 1) of shape [B] + the manifest's
shape, written as TensorProto files; `gannet run FILE --input NAME=FILE.pb --out DIR` (its own
process, 1 thread); the same inputs through ONNX Runtime (CPU, graph optimizations off, so
the reference is the graph as exported); every output must have the same shape and satisfy
|gannet - ort| <= atol + rtol * |ort| elementwise.
A file the manifest lists as failed to export counts as one failed check. Prints one line per
file and batch, `ok   zoo/KEY/bB: max |diff| D (max |ort| M), gannet S s`
or `FAIL zoo/KEY/bB: reason`, then `zoo: N passed, N failed`; exits 1 when any failed.
Needs: onnx, onnxruntime, numpy (no torch).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnx.numpy_helper as nh
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return nh.to_array(t)


def check(gannet, path, entry, batch, seed, work, rtol, atol):
    """Returns (ok, detail)."""
    rng = np.random.default_rng(seed)
    feeds, args = {}, []
    os.makedirs(work, exist_ok=True)
    for k, spec in enumerate(entry["inputs"]):
        a = rng.standard_normal([batch] + spec["shape"]).astype(np.float32)
        feeds[spec["name"]] = a
        f = os.path.join(work, f"in_{k}.pb")
        with open(f, "wb") as fh:
            fh.write(nh.from_array(a, spec["name"]).SerializeToString())
        args += ["--input", f"{spec['name']}={f}"]
    out_dir = os.path.join(work, "out")
    t0 = time.perf_counter()
    r = subprocess.run([gannet, "run", path, *args, "--out", out_dir], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if r.returncode != 0:
        lines = (r.stderr or r.stdout).strip().splitlines()
        return False, f"gannet run exited {r.returncode}: {lines[-1] if lines else ''}"
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    try:
        sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        want = sess.run(None, feeds)
    except Exception as e:
        return False, f"onnxruntime: {type(e).__name__}: {str(e).splitlines()[0]}"
    worst, scale = 0.0, 0.0
    for i, (o, w) in enumerate(zip(sess.get_outputs(), want)):
        f = os.path.join(out_dir, f"output_{i}.pb")
        if not os.path.exists(f):
            return False, f"gannet wrote no output_{i}.pb for '{o.name}'"
        got = load_tensor(f)
        if got.shape != w.shape:
            return False, f"output '{o.name}': shape {list(got.shape)}, onnxruntime {list(w.shape)}"
        if not np.all(np.isfinite(w)):
            return False, f"output '{o.name}': onnxruntime's output is not finite (a bad test input)"
        diff = np.abs(got.astype(np.float64) - w)
        bad = diff > atol + rtol * np.abs(w)
        if bad.any():
            j = int(np.argmax(np.where(bad, diff, -1)))
            return False, (f"output '{o.name}': {int(bad.sum())} of {w.size} elements outside rtol {rtol:g} atol {atol:g}; "
                           f"worst at flat index {j}: gannet {got.flat[j]:.7g}, onnxruntime {w.flat[j]:.7g}")
        worst, scale = max(worst, float(diff.max())), max(scale, float(np.abs(w).max()))
    return True, f"max |diff| {worst:.2e} (max |ort| {scale:.3g}), gannet run {seconds:.1f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("keys", nargs="*", help="NAME_EXPORTER files to check (default: all in the manifest)")
    ap.add_argument("--batches", default="2,3")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-5)
    ap.add_argument("--gannet", default=os.environ.get("GANNET", os.path.join(ROOT, ".build", "release", "gannet")))
    a = ap.parse_args()
    if not os.access(a.gannet, os.X_OK):
        print(f"error: {a.gannet} not found (swift build -c release)", file=sys.stderr)
        return 2
    try:
        with open(os.path.join(a.dir, "manifest.json")) as f:
            manifest = json.load(f)
        files, export_failed = manifest["files"], manifest.get("failed", {})
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {a.dir}/manifest.json: {e} (write it with Tools/interop/export_zoo.py --out {a.dir})", file=sys.stderr)
        return 2
    keys = a.keys or sorted(files)
    missing = [k for k in keys if k not in files and k not in export_failed]
    if missing:
        print(f"error: not in {a.dir}/manifest.json: {', '.join(missing)}", file=sys.stderr)
        return 2
    batches = [int(b) for b in a.batches.split(",")]
    passed = failed = 0
    for key in sorted(export_failed):
        if not a.keys or key in a.keys:
            print(f"FAIL zoo/{key}: {export_failed[key]}", flush=True)
            failed += 1
    keys = [k for k in keys if k in files]
    with tempfile.TemporaryDirectory(prefix="gannet-zoo-") as tmp:
        for key in keys:
            entry = files[key]
            for b in (batches if entry["dynamic"] else [2]):
                ok, detail = check(a.gannet, os.path.join(a.dir, key + ".onnx"), entry, b, 17 * b + len(key),
                                   os.path.join(tmp, f"{key}-b{b}"), a.rtol, a.atol)
                print(f"{'ok  ' if ok else 'FAIL'} zoo/{key}/b{b}: {detail}", flush=True)
                passed += ok
                failed += not ok
    print(f"zoo: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
