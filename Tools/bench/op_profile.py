#!/usr/bin/env python3
"""Where one ONNX model's forward pass spends its time, by operator kind: Gannet against ONNX Runtime.

    op_profile.py MODEL.onnx [--batch 1] [--threads 1] [--repeats 20] [--nodes] [--gannet .build/release/gannet]

Gannet: `gannet bench model MODEL --batch B --threads T --repeats R --profile`, which times each
instruction of the compiled program on its own (median of R runs; its stderr lines are "<ms> ms
<kernel> <shape …>") and is summed here per kernel (conv2d, gemm, resample, …).
ONNX Runtime: an InferenceSession with profiling on (CPU, default graph optimizations, intra-op
threads T), 5 warm-up and R timed runs; each node's `*_kernel_time` events are summed per op type
and divided by the number of runs (ORT's layout passes show up as ReorderInput/ReorderOutput; its
fused nodes under their fused name, e.g. QuickGelu for x·sigmoid(x) and Conv carrying Clip).
Prints both breakdowns, largest first, and each side's total. --nodes also prints ORT's per-node
medians in graph order, to put next to Gannet's per-instruction lines.

The instruction times are measured one instruction at a time, so small point-wise kernels come out
larger than their share of a normal run (their inputs are colder); use it to find where the big
differences are, and `Tools/bench/ab_model.sh` to measure a change. Inputs are seeded N(0, 1);
symbolic dimensions other than the first are set to 1. Needs onnxruntime and numpy (the interop
venv of Tools/scripts/python-env.sh).
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def gannet_profile(gannet, path, batch, threads, repeats):
    r = subprocess.run([gannet, "bench", "model", path, "--batch", str(batch), "--threads", str(threads),
                        "--repeats", str(repeats), "--profile"], capture_output=True, text=True)
    if r.returncode != 0:
        lines = (r.stderr or r.stdout).strip().splitlines()
        sys.exit(f"error: gannet bench model {path}: {lines[-1] if lines else r.returncode}")
    total, count = collections.Counter(), collections.Counter()
    for line in r.stderr.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "ms":
            try:
                ms = float(parts[0])
            except ValueError:
                continue
            kind = parts[2].split("(")[0]
            total[kind] += ms
            count[kind] += 1
    median = next((float(l.split(":")[1]) for l in r.stdout.splitlines() if l.startswith("ms_median:")), None)
    return total, count, median


def ort_profile(path, batch, threads, repeats):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tempfile.mkdtemp(prefix="gannet-op-profile-"), "ort")
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else (batch if k == 0 else 1) for k, d in enumerate(i.shape)]
        feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    for _ in range(5 + repeats):
        sess.run(None, feeds)
    with open(sess.end_profiling()) as f:
        events = json.load(f)
    runs = 5 + repeats
    total, count = collections.Counter(), collections.Counter()
    per_node, order = collections.defaultdict(list), []
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            op = e["args"]["op_name"]
            total[op] += e["dur"] / 1000 / runs
            count[op] += 1
            if e["name"] not in per_node:
                order.append(e["name"])
            per_node[e["name"]].append(e["dur"] / 1000)
    count = collections.Counter({k: v // runs for k, v in count.items()})
    nodes = [(sorted(per_node[n])[len(per_node[n]) // 2], n) for n in order]
    return total, count, nodes


def table(title, total, count):
    print(title)
    for kind, ms in total.most_common():
        print(f"  {ms:10.3f} ms  {count[kind]:4d}  {kind}")
    print(f"  {sum(total.values()):10.3f} ms        total")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--nodes", action="store_true", help="also print ORT's per-node medians in graph order")
    ap.add_argument("--gannet", default=os.environ.get("GANNET", os.path.join(ROOT, ".build", "release", "gannet")))
    a = ap.parse_args()
    if not os.path.isfile(a.model):
        sys.exit(f"error: {a.model}: no such file")
    if not os.access(a.gannet, os.X_OK):
        sys.exit(f"error: {a.gannet} not found (swift build -c release)")
    if a.batch < 1 or a.threads < 1 or a.repeats < 1:
        sys.exit("error: --batch, --threads and --repeats must be at least 1")
    g_total, g_count, g_median = gannet_profile(a.gannet, a.model, a.batch, a.threads, a.repeats)
    o_total, o_count, nodes = ort_profile(a.model, a.batch, a.threads, a.repeats)
    name = os.path.basename(a.model)
    table(f"Gannet, {name}, batch {a.batch}, {a.threads} thread(s): instruction medians by kernel"
          + (f" (whole run, median: {g_median:.3f} ms)" if g_median is not None else ""), g_total, g_count)
    table(f"ONNX Runtime, same model: node times by op type, per run", o_total, o_count)
    if a.nodes:
        print("ONNX Runtime nodes in graph order (median ms):")
        for ms, n in nodes:
            print(f"  {ms:10.3f}  {n[:-len('_kernel_time')]}")


if __name__ == "__main__":
    main()
