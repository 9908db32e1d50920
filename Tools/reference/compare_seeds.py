#!/usr/bin/env python3
"""Seed experiments trained by Gannet and by PyTorch for the same steps, both scored by gan-eval.

    .venv-torch/bin/python Tools/reference/compare_seeds.py --out runs/compare [--epochs 1]
        [--dcgan-steps 40] [--threads 1] [--n 10000] [SPEC ...]

For each spec (default: mnist_gan mnist_gan_freq1 mnist_wgangp mnist_cwgangp dcgan_mnist64) it
1. trains with `gan-train Specs/SPEC.yaml --epochs N` (dcgan_mnist64: `--max-steps K`, a full
   epoch of the 64×64 DCGAN takes hours on 2 cores) into OUT/gannet_SPEC/, unless that run's
   generator.pb exists;
2. trains the same spec for the same iterations with Tools/reference/train_seed_torch.py into
   OUT/torch_SPEC.onnx, unless it exists;
3. scores both generators with `gan-eval --json --n N` (test split reference, seed 0) into
   OUT/eval_{gannet,torch}_SPEC.json, unless they exist;
4. prints a markdown table (FID, IS, precision, recall, F1, density, coverage; the conditional
   model's class accuracy) with the real-vs-real baseline row, and writes it to OUT/table.md.
cifar10_wgangp is listed only when --cifar DIR is given (no CIFAR-10 on Debian's mirrors);
gan-eval scores Fashion-MNIST-like models, so its row would need a CIFAR feature network.
Binaries come from .build/release (run `swift build -c release` first).
"""
import argparse, json, os, subprocess, sys, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, ".build", "release")
PY = sys.executable
SPECS = ["mnist_gan", "mnist_gan_freq1", "mnist_wgangp", "mnist_cwgangp", "dcgan_mnist64"]


def run(cmd, log):
    t = time.time()
    with open(log, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd)}; see {log}")
    return time.time() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("specs", nargs="*", default=SPECS)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--dcgan-steps", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=10000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rows, baseline = [], None
    for spec in a.specs:
        steps = ["--max-steps", str(a.dcgan_steps)] if spec == "dcgan_mnist64" else ["--epochs", str(a.epochs)]
        what = f"{a.dcgan_steps} iterations" if spec == "dcgan_mnist64" else f"{a.epochs} epoch{'s' * (a.epochs > 1)}"
        gdir = os.path.join(a.out, f"gannet_{spec}")
        gpb = os.path.join(gdir, "generator.pb")
        if not os.path.exists(gpb):
            s = run([os.path.join(BIN, "gan-train"), os.path.join(ROOT, "Specs", f"{spec}.yaml"), *steps,
                     "--threads", str(a.threads), "--quiet", "--out", gdir, "--overwrite"], os.path.join(a.out, f"gannet_{spec}.log"))
            print(f"{spec}: gan-train {s:.0f} s", file=sys.stderr)
        tpb = os.path.join(a.out, f"torch_{spec}.onnx")
        if not os.path.exists(tpb):
            s = run([PY, os.path.join(ROOT, "Tools", "reference", "train_seed_torch.py"), spec, "--out", tpb, *steps,
                     "--threads", str(a.threads)], os.path.join(a.out, f"torch_{spec}.log"))
            print(f"{spec}: torch {s:.0f} s", file=sys.stderr)
        for side, model in [("gannet", gpb), ("torch", tpb)]:
            ev = os.path.join(a.out, f"eval_{side}_{spec}.json")
            if not os.path.exists(ev):
                out = subprocess.run([os.path.join(BIN, "gan-eval"), model, "--n", str(a.n), "--json", "--quiet",
                                      "--threads", str(max(2, a.threads))], capture_output=True, text=True)
                if out.returncode != 0:
                    raise SystemExit(f"gan-eval {model} failed: {out.stderr.strip()}")
                with open(ev, "w") as f:
                    f.write(out.stdout)
            with open(ev) as f:
                j = json.loads(f.read().strip().splitlines()[-1])
            baseline = baseline or j["baseline"]
            rows.append((spec, what, "Gannet" if side == "gannet" else "PyTorch", j))
    def fmt(spec, what, by, j):
        acc = j.get("classifier_accuracy")
        return (f"| {spec} | {what} | {by} | {j['fid']:.1f} | {j['is_mean']:.2f} ± {j['is_std']:.2f} | {j['precision']:.3f} | "
                f"{j['recall']:.3f} | {j['f1']:.3f} | {j['density']:.3f} | {j['coverage']:.3f} | "
                f"{'—' if acc is None else f'{acc:.3f}'} |")
    lines = ["| spec | trained | by | FID ↓ | IS ↑ | precision | recall | F1 | density | coverage | class acc. |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [fmt(*r) for r in rows]
    if baseline:
        lines.append(fmt("real train vs test", "—", "—", dict(baseline, classifier_accuracy=None)))
    table = "\n".join(lines)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
