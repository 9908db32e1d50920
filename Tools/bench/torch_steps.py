#!/usr/bin/env python3
"""Training-step time: PyTorch (CPU) against `gannet bench step`, batch 64, 2 threads.

Set-up (the CPU torch build ships with the machine image; an unpinned torch pulls CUDA):
    python3 -m venv .venv-torch
    .venv-torch/bin/pip install 'torch==2.13.0+cpu' numpy
    swift build -c release
    .venv-torch/bin/python Tools/bench/torch_steps.py [--batch 64] [--threads 2] [--repeats 10]

PyTorch equivalents of the seed experiments' steps (shared/reference/seed-experiments.md §3, §4, §6),
full size, train mode, Adam 3e-4 (0.9, 0.999), float32:
- mnist_gan D step: fake = G(z).detach(); BCEWithLogits(D(real),1) + BCEWithLogits(D(fake),0);
  backward; D Adam step. (Gannet does not detach but asks only for D's gradients: same work.)
- mnist_gan G step: BCEWithLogits(D(G(z)),1); backward through D and G; G Adam step.
- dcgan_mnist64 (Specs/dcgan_mnist64.yaml, 64x64): as mnist_gan with BCE on D's sigmoid output,
  Adam 2e-4 (0.5, 0.999).
- mnist_wgangp / cifar10_wgangp critic step: fake detached; wdist + λ·mean((‖∇D(xmix)‖−1)²) with
  create_graph=True (double backward); critic Adam step. G step: −mean(D(G(z))).
Each step is timed as the median of --repeats runs after 3 warm-up runs; `gannet bench step
SPEC --batch B --threads T --json` (median ms) runs in the same invocation. Prints a table and
one JSON line per spec.
"""
import argparse
import json
import os
import statistics
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GANNET = os.path.join(ROOT, ".build", "release", "gannet")


def lrelu():
    return nn.LeakyReLU(0.01)


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(*self.shape)


def mnist_generator():
    return nn.Sequential(
        nn.Linear(100, 1024), nn.BatchNorm1d(1024), lrelu(),
        nn.Linear(1024, 6272), Reshape(-1, 128, 7, 7), nn.BatchNorm2d(128), lrelu(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), lrelu(),
        nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), lrelu(),
        nn.Conv2d(32, 1, 3, 1, 1), nn.Sigmoid())


def mnist_discriminator(bn):
    b = (lambda c, d2=True: [nn.BatchNorm2d(c) if d2 else nn.BatchNorm1d(c)]) if bn else (lambda c, d2=True: [])
    return nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), *b(64), lrelu(),
        nn.Conv2d(64, 128, 4, 2, 1), *b(128), lrelu(),
        Reshape(-1, 6272), nn.Linear(6272, 1024), *b(1024, False), lrelu(),
        nn.Linear(1024, 1), Reshape(-1))


def cifar_generator():
    layers = [nn.Linear(100, 1024), nn.BatchNorm1d(1024), lrelu(),
              nn.Linear(1024, 2048), Reshape(-1, 512, 2, 2), nn.BatchNorm2d(512), lrelu()]
    for cin, cout in [(512, 256), (256, 128), (128, 64), (64, 32)]:
        layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), lrelu()]
    layers += [nn.Conv2d(32, 3, 3, 1, 1), nn.Sigmoid()]
    return nn.Sequential(*layers)


def dcgan_generator():
    # The CMU 11-785 DCGAN notebook (Specs/dcgan_mnist64.yaml): width 128, ReLU, tanh, 64x64.
    layers = [Reshape(-1, 100, 1, 1), nn.ConvTranspose2d(100, 1024, 4, 1, 0), nn.BatchNorm2d(1024), nn.ReLU()]
    for cin, cout in [(1024, 512), (512, 256), (256, 128)]:
        layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU()]
    layers += [nn.ConvTranspose2d(128, 1, 4, 2, 1), nn.Tanh()]
    return nn.Sequential(*layers)


def dcgan_discriminator():
    layers = [nn.Conv2d(1, 128, 4, 2, 1), nn.LeakyReLU(0.2)]
    for cin, cout in [(128, 256), (256, 512), (512, 1024)]:
        layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2)]
    layers += [nn.Conv2d(1024, 1, 4, 1, 0), nn.Sigmoid(), Reshape(-1)]
    return nn.Sequential(*layers)


def cifar_critic():
    layers = []
    for cin, cout in [(3, 64), (64, 128), (128, 256), (256, 512)]:
        layers += [nn.Conv2d(cin, cout, 4, 2, 1), lrelu()]
    layers += [Reshape(-1, 2048), nn.Linear(2048, 1024), lrelu(), nn.Linear(1024, 1), Reshape(-1)]
    return nn.Sequential(*layers)


EXPERIMENTS = {
    "mnist_gan": dict(G=mnist_generator, D=lambda: mnist_discriminator(True), shape=(1, 28, 28), loss="gan"),
    "mnist_wgangp": dict(G=mnist_generator, D=lambda: mnist_discriminator(False), shape=(1, 28, 28), loss="wgan", lam=20.0),
    "cifar10_wgangp": dict(G=cifar_generator, D=cifar_critic, shape=(3, 32, 32), loss="wgan", lam=10.0),
    "dcgan_mnist64": dict(G=dcgan_generator, D=dcgan_discriminator, shape=(1, 64, 64), loss="bce",
                          lr=2e-4, betas=(0.5, 0.999)),
}


def median_ms(fn, repeats, warmup=3):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts)


def torch_times(cfg, batch, repeats, warmup=3):
    G, D = cfg["G"](), cfg["D"]()
    G.train()
    D.train()
    lr, betas = cfg.get("lr", 3e-4), cfg.get("betas", (0.9, 0.999))
    dopt = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    gopt = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    real = torch.rand(batch, *cfg["shape"])

    def d_step():
        z = torch.randn(batch, 100)
        dopt.zero_grad(set_to_none=True)
        fake = G(z).detach()
        d_real, d_fake = D(real), D(fake)
        if cfg["loss"] == "gan":
            loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                    + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        elif cfg["loss"] == "bce":
            loss = (F.binary_cross_entropy(d_real, torch.ones_like(d_real))
                    + F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake)))
        else:
            alpha = torch.rand(batch, 1, 1, 1)
            xmix = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
            grads = torch.autograd.grad(D(xmix).sum(), xmix, create_graph=True)[0]
            norm = torch.sqrt((grads ** 2).sum(dim=(1, 2, 3)))
            loss = d_fake.mean() - d_real.mean() + cfg["lam"] * ((norm - 1) ** 2).mean()
        loss.backward()
        dopt.step()

    def g_step():
        z = torch.randn(batch, 100)
        gopt.zero_grad(set_to_none=True)
        d_fake = D(G(z))
        if cfg["loss"] == "gan":
            loss = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
        elif cfg["loss"] == "bce":
            loss = F.binary_cross_entropy(d_fake, torch.ones_like(d_fake))
        else:
            loss = -d_fake.mean()
        loss.backward()
        gopt.step()

    return median_ms(d_step, repeats, warmup), median_ms(g_step, repeats, warmup)


def gannet_times(name, batch, threads):
    out = subprocess.run([GANNET, "bench", "step", os.path.join(ROOT, "Specs", f"{name}.yaml"),
                          "--batch", str(batch), "--threads", str(threads), "--json"],
                         check=True, capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.strip().startswith("{")][-1]
    j = json.loads(line)
    return j["d_step_ms"], j["g_step_ms"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("experiments", nargs="*", default=list(EXPERIMENTS))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if not os.path.exists(GANNET):
        raise SystemExit(f"{GANNET} not found: run `swift build -c release` first")
    rows = []
    for name in a.experiments:
        td, tg = torch_times(EXPERIMENTS[name], a.batch, a.repeats)
        gd, gg = gannet_times(name, a.batch, a.threads)
        rows.append((name, td, gd, tg, gg))
        print(json.dumps({"spec": name, "batch": a.batch, "threads": a.threads, "torch": torch.__version__,
                          "torch_d_step_ms": round(td, 2), "gannet_d_step_ms": round(gd, 2), "d_ratio": round(gd / td, 3),
                          "torch_g_step_ms": round(tg, 2), "gannet_g_step_ms": round(gg, 2), "g_ratio": round(gg / tg, 3)}),
              flush=True)
    print(f"\nbatch {a.batch}, {a.threads} threads, median ms (ratio = gannet / torch; < 1 means Gannet is faster)")
    print(f"{'spec':16s} {'D torch':>9s} {'D gannet':>9s} {'ratio':>6s}   {'G torch':>9s} {'G gannet':>9s} {'ratio':>6s}")
    for name, td, gd, tg, gg in rows:
        print(f"{name:16s} {td:9.1f} {gd:9.1f} {gd / td:6.2f}   {tg:9.1f} {gg:9.1f} {gg / tg:6.2f}")


if __name__ == "__main__":
    main()
