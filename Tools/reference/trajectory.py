#!/usr/bin/env python3
"""One seed spec trained in chunks with gan-train --resume, scored after each chunk.

    .venv/bin/python Tools/reference/trajectory.py SPEC --out DIR --epochs 4,8,12,...
        [--threads 2] [--n 10000] [--dataset mnist:DIR]

The seed notebook shows its "failed GAN" (mnist_gan_freq1) only as a video of 50 epochs; this
script records how a run develops over that length so two specs can be compared on numbers:
1. trains Specs/SPEC.yaml into DIR/run up to the first epoch count, then resumes the same run
   (`gan-train --resume DIR/run --epochs E`) up to each next one; a chunk whose
   DIR/eval_E.json exists is skipped, so an interrupted script can be started again;
2. after each chunk copies the generator to DIR/generator_E.pb and scores it with
   `gan-eval --json --n N` into DIR/eval_E.json;
3. prints a markdown table and writes it to DIR/table.md. Per chunk: FID, IS, precision,
   recall, coverage (gan-eval against the test split); the mean D loss and D's mean real/fake
   logits over the chunk's logged steps (metrics.jsonl); and two measures of the fixed-latent
   frames written in the chunk: diversity (mean pairwise L2 distance between the 100 samples of
   a frame, pixels in [0, 1]; a collapsed generator scores near 0) and change (mean L2 distance
   of a sample to itself in the previous frame; oscillating training scores high).
Binaries come from .build/release (`swift build -c release`); Pillow reads the frames.
"""
import argparse, json, os, shutil, subprocess, sys

import numpy as np
from PIL import Image

from compare_seeds import BIN, ROOT, run


def frame_tiles(path, grid=10):
    """The grid's samples as rows of pixels in [0, 1] (gan-train's 2-pixel padding)."""
    a = np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255
    size = (a.shape[0] - 2 * (grid + 1)) // grid
    step = size + 2
    return np.stack([a[2 + step * r:2 + step * r + size, 2 + step * c:2 + step * c + size].ravel()
                     for r in range(grid) for c in range(grid)])


def frame_stats(frames_dir, first, last):
    """Mean diversity and change over frames first...last (1-based file numbers)."""
    div, change, prev = [], [], None
    if first > 1 and os.path.exists(os.path.join(frames_dir, f"frame_{first - 1:05d}.png")):
        prev = frame_tiles(os.path.join(frames_dir, f"frame_{first - 1:05d}.png"))
    for k in range(first, last + 1):
        p = os.path.join(frames_dir, f"frame_{k:05d}.png")
        if not os.path.exists(p):
            break
        t = frame_tiles(p)
        d = np.sqrt(((t[:, None, :] - t[None, :, :]) ** 2).sum(-1))
        div.append(d.sum() / (len(t) * (len(t) - 1)))
        if prev is not None:
            change.append(np.sqrt(((t - prev) ** 2).sum(-1)).mean())
        prev = t
    mean = lambda v: float(np.mean(v)) if v else float("nan")
    return mean(div), mean(change)


def metric_means(path, lo, hi):
    """Mean d_loss, d_real, d_fake over logged steps of epochs lo..<hi (last write of a step wins)."""
    by_step = {}
    with open(path) as f:
        for line in f:
            o = json.loads(line)
            if lo <= o["epoch"] < hi:
                by_step[o["step"]] = o
    rows = list(by_step.values())
    mean = lambda k: float(np.mean([r[k] for r in rows if r.get(k) is not None])) if rows else float("nan")
    return mean("d_loss"), mean("d_real"), mean("d_fake")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", required=True, help="comma-separated, increasing epoch counts")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--dataset", help="gan-train --dataset (e.g. mnist:DIR for the seed's own data)")
    ap.add_argument("--iterations-per-frame", type=int, default=11, help="image_frequency + 1 of the spec")
    a = ap.parse_args()
    epochs = [int(e) for e in a.epochs.split(",")]
    if epochs != sorted(set(epochs)) or epochs[0] < 1:
        raise SystemExit(f"--epochs must be increasing positive counts, got {a.epochs}")
    os.makedirs(a.out, exist_ok=True)
    rundir = os.path.join(a.out, "run")
    spec_path = os.path.join(ROOT, "Specs", f"{a.spec}.yaml")
    if not os.path.exists(spec_path):
        raise SystemExit(f"{spec_path}: no such spec")
    for e in epochs:
        ev = os.path.join(a.out, f"eval_{e}.json")
        if os.path.exists(ev):
            continue
        if os.path.exists(os.path.join(rundir, "checkpoint.gck")):
            cmd = [os.path.join(BIN, "gan-train"), "--resume", rundir]
        else:
            cmd = [os.path.join(BIN, "gan-train"), spec_path, "--out", rundir]
        if a.dataset:
            cmd += ["--dataset", a.dataset]
        s = run(cmd + ["--epochs", str(e), "--threads", str(a.threads), "--quiet"], os.path.join(a.out, f"train_{e}.log"))
        pb = os.path.join(a.out, f"generator_{e}.pb")
        shutil.copyfile(os.path.join(rundir, "generator.pb"), pb)
        out = subprocess.run([os.path.join(BIN, "gan-eval"), pb, "--n", str(a.n), "--json", "--quiet"],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"gan-eval {pb} failed: {out.stderr.strip()}")
        with open(ev, "w") as f:
            f.write(out.stdout)
        print(f"{a.spec}: {e} epochs (chunk {s:.0f} s)", file=sys.stderr)

    lines = [f"| epochs | FID ↓ | IS ↑ | precision | recall | coverage | D loss | D real logit | D fake logit | diversity | change |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    prev_e, prev_frame = 0, 0
    metrics = os.path.join(rundir, "metrics.jsonl")
    per_epoch = None
    for e in epochs:
        r = json.load(open(os.path.join(a.out, f"eval_{e}.json")))
        dl, dr, df = metric_means(metrics, prev_e, e)
        if per_epoch is None:
            # Batches per epoch from the logged steps: epoch k starts at step k·B + 1.
            starts = {}
            for line in open(metrics):
                o = json.loads(line)
                starts.setdefault(o["epoch"], o["step"])
            ks = sorted(k for k in starts if k > 0)
            per_epoch = (starts[ks[0]] - 1) // ks[0] if ks else 469
        last_frame = (e * per_epoch) // a.iterations_per_frame
        div, change = frame_stats(os.path.join(rundir, "frames"), prev_frame + 1, last_frame)
        lines.append(f"| {prev_e + 1}–{e} | {r['fid']:.1f} | {r['is_mean']:.2f} | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} | {r['coverage']:.3f} | {dl:.3f} | {dr:.2f} | {df:.2f} | {div:.2f} | {change:.2f} |")
        prev_e, prev_frame = e, last_frame
    table = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
