#!/usr/bin/env python3
"""Gannet against PyTorch and ONNX Runtime on the seed recipes, idle and under load, in one run.

Needs a Python environment with torch 2.13 (the CPU build), onnx, onnxruntime and numpy; this
script installs nothing. One way to make it (the CPU wheel index is needed for torch's CPU build):
    python3 -m venv V && V/bin/pip install 'torch==2.13.0+cpu' onnx onnxruntime numpy
On the project's build machine such an environment is at /work/venv-torch. Then:
    swift build -c release
    V/bin/python Tools/bench/steps_vs_torch.py            # idle machine
    V/bin/python Tools/bench/steps_vs_torch.py --load     # idle, then with one busy competitor
    V/bin/python Tools/bench/steps_vs_torch.py --load --quick   # fewer repetitions (~half the time)

What it measures (batch 64 unless --batch):
- Training steps, every seed recipe (Specs/mnist_gan, mnist_wgangp, cifar10_wgangp,
  dcgan_mnist64), D (critic) and G step, optimizer update included:
  Gannet: `gannet bench step SPEC --batch B --threads T --scaling --json`, which runs the T-thread
  and the 1-thread steps interleaved step by step in one process (median ms of each);
  PyTorch: the same networks and losses (torch_steps.py) in this process, torch.set_num_threads(T),
  median of the same number of steps after warm-up.
- Sampling: each distinct seed generator (exported by `gannet convert SPEC --out DIR`) at batch
  64 and 1, on 1 and T threads: `gannet bench model` (median) against an ONNX Runtime session
  on the same .onnx (intra-op threads set, median).
Conditions: `idle` (whatever else runs on the machine: check the load average printed with each
row), and with --load `load`: one competing CPU-bound process (`python3 -c "while True: pass"`)
started before and killed after the rows of that condition.
Output: one JSON line per row as it is measured, then one table. Ratios: `2t/1t` = Gannet's
T-thread time over its 1-thread time (< 1: the threads help); `vs torch` = Gannet T threads
over PyTorch T threads; `vs ort` = Gannet over ONNX Runtime (< 1: Gannet faster).
Run time: about 5 minutes per condition on an idle 2-core machine (--quick: about half).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GANNET = os.path.join(ROOT, ".build", "release", "gannet")
SPECS = ["mnist_gan", "mnist_wgangp", "cifar10_wgangp", "dcgan_mnist64"]
# Steps per measurement: the 64x64 DCGAN step is ~15x the MNIST one.
REPEATS = {"mnist_gan": 10, "mnist_wgangp": 10, "cifar10_wgangp": 6, "dcgan_mnist64": 3}
# Distinct generators (mnist_wgangp's is mnist_gan's architecture).
SAMPLERS = ["mnist_gan", "cifar10_wgangp", "dcgan_mnist64"]


def loadavg():
    return round(os.getloadavg()[0], 2)


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads([l for l in out.splitlines() if l.strip().startswith("{")][-1])


def gannet_steps(spec, batch, threads, repeats):
    return run_json([GANNET, "bench", "step", os.path.join(ROOT, "Specs", spec + ".yaml"), "--batch", str(batch),
                     "--threads", str(threads), "--repeats", str(repeats), "--scaling", "--json"])


def step_rows(condition, a, emit):
    import torch
    import torch_steps
    torch.manual_seed(0)
    for spec in a.specs:
        reps = max(2, REPEATS.get(spec, 6) // (2 if a.quick else 1))
        if a.repeats:
            reps = min(reps, a.repeats)
        la = loadavg()
        g = gannet_steps(spec, a.batch, a.threads, reps)
        torch.set_num_threads(a.threads)
        td, tg = torch_steps.torch_times(torch_steps.EXPERIMENTS[spec], a.batch, reps, warmup=2)
        for step, t, g1, gt in [("D", td, g["d_step_ms_1_thread"], g["d_step_ms"]),
                                ("G", tg, g["g_step_ms_1_thread"], g["g_step_ms"])]:
            emit({"kind": "step", "condition": condition, "spec": spec, "step": step, "batch": a.batch,
                  "threads": a.threads, "repeats": reps, "loadavg": la,
                  "gannet_1_thread_ms": round(g1, 2), "gannet_ms": round(gt, 2), "threads_ratio": round(gt / g1, 3),
                  "torch_ms": round(t, 2), "vs_torch": round(gt / t, 3)})


def sample_rows(condition, a, emit, models):
    import numpy as np
    import onnxruntime as ort
    import torch_steps
    for spec in a.samplers:
        model = models[spec]
        for batch in (64, 1):
            for threads in sorted({1, a.threads}):
                reps = 30 if batch == 1 else (10 if a.quick else 20)
                la = loadavg()
                g = run_json([GANNET, "bench", "model", model, "--batch", str(batch), "--threads", str(threads),
                              "--repeats", str(reps), "--json"])["ms_median"]
                so = ort.SessionOptions()
                so.intra_op_num_threads = threads
                so.inter_op_num_threads = 1
                sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
                inp = sess.get_inputs()[0]
                shape = [batch] + [d if isinstance(d, int) else 1 for d in inp.shape[1:]]
                z = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
                o = torch_steps.median_ms(lambda: sess.run(None, {inp.name: z}), reps)
                emit({"kind": "sample", "condition": condition, "spec": spec, "batch": batch, "threads": threads,
                      "repeats": reps, "loadavg": la, "gannet_ms": round(g, 3), "ort_ms": round(o, 3),
                      "vs_ort": round(g / o, 3)})


def export_generators(specs, tmp):
    models = {}
    for spec in specs:
        out = os.path.join(tmp, spec)
        subprocess.run([GANNET, "convert", os.path.join(ROOT, "Specs", spec + ".yaml"), "--out", out],
                       check=True, stdout=subprocess.DEVNULL)
        found = [f for f in os.listdir(out) if f.startswith("generator") and f.endswith((".onnx", ".pb"))]
        if not found:
            raise SystemExit(f"gannet convert wrote no generator model for {spec} in {out}: {os.listdir(out)}")
        models[spec] = os.path.join(out, found[0])
    return models


def print_table(rows):
    steps = [r for r in rows if r["kind"] == "step"]
    if steps:
        t = steps[0]["threads"]
        print(f"\nTraining steps, batch {steps[0]['batch']}, median ms; {t}t/1t = Gannet {t} threads over Gannet 1 thread, "
              f"vs torch = Gannet {t} threads over PyTorch {t} threads (< 1: Gannet faster)")
        print(f"{'condition':9s} {'spec':15s} {'step':4s} {'Gannet 1t':>10s} {f'Gannet {t}t':>10s} {f'{t}t/1t':>6s} "
              f"{f'torch {t}t':>10s} {'vs torch':>8s} {'load':>5s}")
        for r in steps:
            print(f"{r['condition']:9s} {r['spec']:15s} {r['step']:4s} {r['gannet_1_thread_ms']:10.1f} {r['gannet_ms']:10.1f} "
                  f"{r['threads_ratio']:6.2f} {r['torch_ms']:10.1f} {r['vs_torch']:8.2f} {r['loadavg']:5.2f}")
    samples = [r for r in rows if r["kind"] == "sample"]
    if samples:
        print("\nGenerator sampling (forward pass), median ms; vs ort = Gannet over ONNX Runtime (< 1: Gannet faster)")
        print(f"{'condition':9s} {'spec':15s} {'batch':>5s} {'threads':>7s} {'Gannet':>9s} {'ORT':>9s} {'vs ort':>7s} {'load':>5s}")
        for r in samples:
            print(f"{r['condition']:9s} {r['spec']:15s} {r['batch']:5d} {r['threads']:7d} {r['gannet_ms']:9.2f} "
                  f"{r['ort_ms']:9.2f} {r['vs_ort']:7.2f} {r['loadavg']:5.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--load", action="store_true", help="after the idle rows, run them again with one busy competitor process")
    ap.add_argument("--load-only", action="store_true", help="only the rows under load")
    ap.add_argument("--quick", action="store_true", help="half the repetitions")
    ap.add_argument("--repeats", type=int, default=0, help="cap on timed steps per measurement")
    ap.add_argument("--specs", nargs="*", default=SPECS, choices=SPECS)
    ap.add_argument("--samplers", nargs="*", default=SAMPLERS, choices=SPECS, help="generators to time sampling of")
    ap.add_argument("--no-steps", action="store_true")
    ap.add_argument("--no-sample", action="store_true")
    a = ap.parse_args()
    if not os.path.exists(GANNET):
        raise SystemExit(f"{GANNET} not found: run `swift build -c release` first")
    conditions = ["load"] if a.load_only else (["idle", "load"] if a.load else ["idle"])
    rows = []

    def emit(r):
        rows.append(r)
        print(json.dumps(r), flush=True)

    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        models = {} if a.no_sample else export_generators(a.samplers, tmp)
        for condition in conditions:
            competitor = None
            if condition == "load":
                competitor = subprocess.Popen(["python3", "-c", "while True: pass"])
                time.sleep(1)
            try:
                if not a.no_steps:
                    step_rows(condition, a, emit)
                if not a.no_sample:
                    sample_rows(condition, a, emit, models)
            finally:
                if competitor is not None:
                    competitor.kill()
                    competitor.wait()
    print_table(rows)
    print(f"\n{os.cpu_count()} CPUs, {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
