#!/usr/bin/env python3
"""Seconds per epoch of the seed `mnist_gan` on Fashion-MNIST, Gannet against PyTorch, 2 threads,
with the peak resident memory of each (issue: gan-train measurements).

    .venv-torch/bin/python Tools/bench/epoch_time.py [--iterations 60] [--threads 2]

Both run the seed's loop on real Fashion-MNIST batches of 128 (/usr/share/datasets/fashion-mnist):
one D step per iteration, a G step every 6th (generator frequency 5), Adam 3e-4. Gannet runs
`gan-train Specs/mnist_gan.yaml --max-steps K --threads T --quiet` under /usr/bin/time-style
rusage accounting (a child process); PyTorch runs the same K iterations in a child process.
Each side's seconds per iteration (after the first 5, which include compilation / warm-up) is
scaled to a full epoch of 469 iterations. Needs torch (pip install 'torch==2.13.0+cpu').
"""
import argparse, gzip, json, os, resource, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(__file__))


def child_rss_mb():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def torch_run(k, threads):
    import numpy as np
    import torch
    import torch_steps as ts
    torch.set_num_threads(threads)
    with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
        data = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
    g, d = ts.mnist_generator(), ts.mnist_discriminator(True)
    og = torch.optim.Adam(g.parameters(), 3e-4)
    od = torch.optim.Adam(d.parameters(), 3e-4)
    bce = torch.nn.BCEWithLogitsLoss()
    perm = np.random.default_rng(0).permutation(len(data))
    times = []
    count = 0
    for it in range(k):
        t0 = time.perf_counter()
        x = torch.from_numpy(data[perm[it * 128:(it + 1) * 128]])
        z = torch.randn(len(x), 100)
        od.zero_grad()
        real, fake = d(x), d(g(z).detach())
        loss = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
        loss.backward()
        od.step()
        count += 1
        if count > 5:
            count = 0
            og.zero_grad()
            out = d(g(torch.randn(128, 100)))
            bce(out, torch.ones_like(out)).backward()
            og.step()
        times.append(time.perf_counter() - t0)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", action="store_true")
    a = ap.parse_args()
    if a.child:
        times = torch_run(a.iterations, a.threads)
        print(json.dumps({"per_iteration_s": sum(times[5:]) / len(times[5:]),
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        return
    out = tempfile.mkdtemp()
    t0 = time.perf_counter()
    subprocess.run([os.path.join(ROOT, ".build/release/gan-train"), os.path.join(ROOT, "Specs/mnist_gan.yaml"),
                    "--max-steps", str(a.iterations), "--threads", str(a.threads), "--quiet", "--out", out,
                    "--log-every", "1"], check=True)
    wall = time.perf_counter() - t0
    gannet_rss = child_rss_mb()
    lines = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl"))]
    t5 = next(l["time"] for l in lines if l["step"] >= 6)
    t_end = lines[-1]["time"]
    gannet_it = (t_end - t5) / (lines[-1]["step"] - 6)
    res = subprocess.run([sys.executable, __file__, "--child", "--iterations", str(a.iterations), "--threads", str(a.threads)],
                         check=True, capture_output=True, text=True)
    child = json.loads(res.stdout.strip().splitlines()[-1])
    torch_it, torch_rss = child["per_iteration_s"], child["peak_rss_mb"]
    print(json.dumps({"gannet_epoch_s": round(gannet_it * 469, 1), "pytorch_epoch_s": round(torch_it * 469, 1),
                      "ratio_pytorch_over_gannet": round(torch_it / gannet_it, 2),
                      "gannet_peak_rss_mb": round(gannet_rss, 1), "pytorch_peak_rss_mb": round(torch_rss, 1),
                      "gannet_wall_s_incl_startup": round(wall, 1)}))


if __name__ == "__main__":
    main()
