#!/usr/bin/env python3
"""Times the seed MNIST generator forward pass (batch 64) in Gannet, ONNX Runtime and PyTorch
in one run, on the same weights, and prints the ratios.

    forward_peers.py [--batch 64] [--threads 2] [--gannet .build/release/gannet]

Gannet: `gannet bench model MODEL.pb --batch B --threads T --json` (median of 30 runs).
ONNX Runtime: the same .pb (exported by `gannet convert seed:mnist-generator`), intra-op threads T,
median of 30 runs. PyTorch (optional; needs torch: pip install 'torch==2.13.0+cpu', the CPU build
the machine image ships): the same architecture in eval mode with the weights copied from the .pb.
"""
import argparse, json, os, subprocess, sys, tempfile, time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def median_ms(fn, repeats=30, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    ts.sort()
    return ts[len(ts) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gannet", default=".build/release/gannet")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    model = os.path.join(tmp, "g.pb")
    subprocess.run([a.gannet, "convert", "seed:mnist-generator", model], check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([a.gannet, "bench", "model", model, "--batch", str(a.batch), "--threads", str(a.threads), "--json"],
                         check=True, capture_output=True, text=True).stdout
    gannet_ms = json.loads(out.strip().splitlines()[-1])["ms_median"]

    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    z = np.random.default_rng(0).standard_normal((a.batch, 100)).astype(np.float32)
    name = sess.get_inputs()[0].name
    ort_ms = median_ms(lambda: sess.run(None, {name: z}))
    rows = [("gannet", gannet_ms), ("onnxruntime", ort_ms)]

    try:
        import torch
        torch.set_num_threads(a.threads)
        w = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(model).graph.initializer}
        nn = torch.nn
        g = nn.Sequential(
            nn.Linear(100, 1024), nn.BatchNorm1d(1024), nn.LeakyReLU(0.01), nn.Linear(1024, 6272), nn.Unflatten(1, (128, 7, 7)),
            nn.BatchNorm2d(128), nn.LeakyReLU(0.01), nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.LeakyReLU(0.01),
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.LeakyReLU(0.01), nn.Conv2d(32, 1, 3, 1, 1), nn.Sigmoid()).eval()
        names = {0: "fc1", 1: "bn1", 3: "fc2", 5: "bn2", 7: "deconv1", 8: "bn3", 10: "deconv2", 11: "bn4", 13: "conv"}
        with torch.no_grad():
            for i, n in names.items():
                for p, t in g[i].state_dict().items():
                    key = f"{n}.{p}"
                    if key in w:
                        t.copy_(w[key])
            zt = torch.from_numpy(z)
            torch_ms = median_ms(lambda: g(zt))
        rows.append(("pytorch", torch_ms))
    except ImportError:
        print("pytorch: not installed (optional)", file=sys.stderr)

    for n, ms in rows:
        print(json.dumps({"runtime": n, "batch": a.batch, "threads": a.threads, "ms_median": round(ms, 3),
                          "gannet_speedup": round(ms / gannet_ms, 3)}))


if __name__ == "__main__":
    main()
