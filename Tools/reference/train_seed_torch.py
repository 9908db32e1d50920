#!/usr/bin/env python3
"""PyTorch reference trainer for Gannet's seed experiments.

Trains one seed experiment (shared/reference/seed-experiments.md, Specs/<SPEC_NAME>.yaml) with
PyTorch on the CPU for a given number of epochs or D iterations, exports the generator to ONNX
and prints one JSON line, so that the same spec trained by `gan-train` and by this script for
the same number of steps can both be scored by Gannet's `gan-eval`.

Usage:
    .venv-torch/bin/python Tools/reference/train_seed_torch.py SPEC_NAME --out G.onnx
        [--epochs N] [--max-steps K] [--threads T] [--seed S]
        [--data /usr/share/datasets/fashion-mnist] [--cifar DIR]
    /tmp/gbin/gan-eval G.onnx --n 1000 --threads 1 --json     # or .build/release/gan-eval

    SPEC_NAME: mnist_gan, mnist_gan_freq1, mnist_wgangp, mnist_cwgangp, dcgan_mnist64,
    cifar10_wgangp. Needs torch (2.13 cpu) and numpy; onnx export needs the `onnx` package.

Contract:
- --epochs N (default 1) replaces the spec's epoch count; --max-steps K stops after K D
  iterations (whichever comes first). --threads T sets torch's intra-op threads (default 1).
  --seed S (default 0) seeds initialisation, every draw (z, alpha, labels) and the data order.
- stdout: exactly one JSON line {spec, iterations, g_steps, epochs, seconds,
  seconds_per_iteration, d_loss, g_loss, torch, threads, seed, out}. `seconds` is the wall
  time of the training loop only (not data loading or export); d_loss / g_loss are the last
  D-step and last G-step losses (g_loss null when no G step ran). Progress goes to stderr.
- --out: the generator in eval mode (BatchNorm uses running statistics), exported with
  torch.onnx.export(dynamo=False, opset_version=17), inputs `z` f32[N,100] and, for
  mnist_cwgangp, `y` i64[N]; output `image` f32[N,C,H,W]; the batch axis N is dynamic.
  The last layer is Sigmoid ([0,1]) or Tanh (dcgan_mnist64, [-1,1]), which is how gan-eval
  tells the range; the class count comes from the Embedding.
- Not bit-identical to Gannet: random streams, data order and kernels differ. What matches is
  the experiment: networks, initialisation, data, losses, optimizers and loop.

What it matches (seed-experiments.md §2-§7 and the specs):
- Networks: the spec's layer lists. The unconditional MNIST and CIFAR-10 networks come from
  Tools/bench/torch_steps.py; the conditional ones reuse its trunks with the first layer
  widened (Linear(132->1024), Conv2d(33->64)) behind an Embedding(10, 32) each (G: concat
  [z, emb(y)]; critic: emb(y) broadcast to (N,32,28,28), concat [x, map]). The DCGAN networks
  are defined here. Parameter counts are checked against Specs/README.md at start-up.
- Init `seed`: every >1-D weight (Linear, Conv, ConvTranspose, Embedding) Xavier-uniform gain 1
  with PyTorch's fans, biases 0, BatchNorm gamma ~ U(0,1), beta 0 (eps 1e-5, momentum 0.1).
  dcgan_mnist64: conv / conv-transpose weights ~ N(0, 0.02), biases 0, BN gamma ~ U(0,1), beta 0.
- Data: the train split. Fashion-MNIST (IDX gz from --data; the seed used MNIST, the specs
  name Fashion-MNIST) as x/255 in [0,1]; for mnist_cwgangp with its labels. dcgan_mnist64:
  each 28x28 byte image is resized to 64x64 with
  torch.nn.functional.interpolate(mode='bilinear', align_corners=False, antialias=False), done
  as a horizontal pass then a vertical pass, each rounded to bytes (this is what Pillow's
  BILINEAR upscaling under torchvision's Resize, and Gannet's Data/Resize.swift, compute; for
  upscaling the triangle filter equals half-pixel bilinear with edge clamping), then mapped
  to [-1,1] by (x/255 - 0.5)/0.5. CIFAR-10: data_batch_1..5.bin from --cifar DIR (or
  DIR/cifar-10-batches-bin), x/255; its labels are read but unused.
  Batches of the spec's size (128; CIFAR 64), a fresh seeded permutation every epoch,
  drop_last false (469 batches of Fashion-MNIST, the last of 96).
- Loop of the five inferno scripts (§2.3-§2.4): before each iteration stop when the epoch
  count reaches --epochs or K iterations ran; running past the last batch advances the epoch
  and takes the first batch of the next, so a full run is epochs x batches + 1 D iterations.
  Each iteration: one D (critic) step on the real batch with z of the real batch's size; G
  stays in train mode (its BN running statistics update); real and fake go through D in
  separate forwards (separate BN batch statistics). Then count += 1; when count > the spec's
  generator_frequency, one G step with z of the spec's batch size and count = 0; the counter
  is never reset at epoch ends (G trains every 6th D step for 5, 2nd for 1, 11th for 10). The
  G step runs D in train mode too (D's BN uses batch statistics and updates running stats).
  Fakes in the D step are computed without gradient to G (G's gradients are discarded in the
  original: identical updates).
- Losses: gan_bce_logits: D = BCEWithLogits(D(x),1) + BCEWithLogits(D(G(z)),0), batch means,
  summed; G = BCEWithLogits(D(G(z)),1). wgan_gp: critic = mean(D(fake)) - mean(D(real)) +
  lambda*mean((||grad||-1)^2), with x_mix = a*real + (1-a)*fake, a ~ U[0,1) per sample, a
  third critic forward on x_mix, grad = d(sum D(x_mix))/d x_mix with create_graph=True, norm
  over (C,H,W) per sample, no epsilon; G = -mean(D(G(z))). lambda from the spec (20; CIFAR 10).
  cwgan_gp: the same with the critic's fakes and penalty conditioned on the real batch's labels;
  the G step draws labels y = floor(U[0,1)*10), uniform and independent of the data.
- dcgan_mnist64 (the notebook's loop, §7): for each batch, D step with
  BCE(D(x),1) + BCE(D(G(z)),0) on sigmoid outputs, then a G step with a fresh z of the real
  batch's size and BCE(D(G(z)),1); a full run is epochs x batches iterations (no extra one).
- Adam from the spec: lr 3e-4, betas (0.9, 0.999), eps 1e-8 (dcgan: lr 2e-4, betas (0.5, 0.999)),
  no weight decay, one optimizer per network (each conditional network's embedding included).
"""
import argparse
import gzip
import json
import os
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Tools", "bench"))
import torch_steps as ts  # noqa: E402  (networks of the seed experiments)

LATENT = 100


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# Networks


class CondGenerator(nn.Module):
    """mnist_cwgangp generator: concat([z, emb(y)]) (N,132) -> the MNIST generator trunk."""

    def __init__(self, classes=10, dim=32):
        super().__init__()
        self.label_embedding = nn.Embedding(classes, dim)
        self.trunk = ts.mnist_generator()
        self.trunk[0] = nn.Linear(LATENT + dim, 1024)

    def forward(self, z, y):
        return self.trunk(torch.cat([z, self.label_embedding(y)], dim=1))


class CondCritic(nn.Module):
    """mnist_cwgangp critic: concat([x, emb(y) broadcast to (N,32,28,28)]) -> the critic trunk."""

    def __init__(self, classes=10, dim=32):
        super().__init__()
        self.label_embedding = nn.Embedding(classes, dim)
        self.trunk = ts.mnist_discriminator(False)
        self.trunk[0] = nn.Conv2d(1 + dim, 64, 4, 2, 1)

    def forward(self, x, y):
        e = self.label_embedding(y)
        label_map = e[:, :, None, None].expand(e.shape[0], e.shape[1], x.shape[2], x.shape[3])
        return self.trunk(torch.cat([x, label_map], dim=1))


def dcgan_generator(d=128):
    return nn.Sequential(
        ts.Reshape(-1, LATENT, 1, 1),
        nn.ConvTranspose2d(LATENT, d * 8, 4, 1, 0), nn.BatchNorm2d(d * 8), nn.ReLU(),
        nn.ConvTranspose2d(d * 8, d * 4, 4, 2, 1), nn.BatchNorm2d(d * 4), nn.ReLU(),
        nn.ConvTranspose2d(d * 4, d * 2, 4, 2, 1), nn.BatchNorm2d(d * 2), nn.ReLU(),
        nn.ConvTranspose2d(d * 2, d, 4, 2, 1), nn.BatchNorm2d(d), nn.ReLU(),
        nn.ConvTranspose2d(d, 1, 4, 2, 1), nn.Tanh())


def dcgan_discriminator(d=128):
    return nn.Sequential(
        nn.Conv2d(1, d, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(d, d * 2, 4, 2, 1), nn.BatchNorm2d(d * 2), nn.LeakyReLU(0.2),
        nn.Conv2d(d * 2, d * 4, 4, 2, 1), nn.BatchNorm2d(d * 4), nn.LeakyReLU(0.2),
        nn.Conv2d(d * 4, d * 8, 4, 2, 1), nn.BatchNorm2d(d * 8), nn.LeakyReLU(0.2),
        nn.Conv2d(d * 8, 1, 4, 1, 0), nn.Sigmoid(), ts.Reshape(-1))


def init_seed(module):
    """The seed rule: >1-D weights Xavier-uniform (gain 1), biases 0, BN gamma ~ U(0,1), beta 0."""
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.uniform_(m.weight, 0.0, 1.0)
            nn.init.zeros_(m.bias)
            continue
        w = getattr(m, "weight", None)
        if isinstance(w, nn.Parameter) and w.dim() > 1:
            nn.init.xavier_uniform_(w, gain=1.0)
        b = getattr(m, "bias", None)
        if isinstance(b, nn.Parameter):
            nn.init.zeros_(b)


def init_dcgan(module):
    """dcgan_mnist64: conv / conv-transpose weights N(0, 0.02), biases 0, BN gamma ~ U(0,1), beta 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.uniform_(m.weight, 0.0, 1.0)
            nn.init.zeros_(m.bias)
        elif isinstance(getattr(m, "weight", None), nn.Parameter):
            raise AssertionError(f"dcgan init: unexpected parameterised layer {m}")


ADAM_SEED = dict(lr=3e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
ADAM_DCGAN = dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-8, weight_decay=0.0)

# Per spec: networks, init, loss, data, schedule and optimizers (Specs/<name>.yaml).
# params: trainable parameter counts (G, D) from Specs/README.md.
SPECS = {
    "mnist_gan": dict(G=ts.mnist_generator, D=lambda: ts.mnist_discriminator(True), init=init_seed,
                      loss="gan_bce_logits", data="fashion", range01=True, batch=128, epochs=50,
                      freq=5, adam=ADAM_SEED, loop="inferno", params=(6698945, 6559297)),
    "mnist_gan_freq1": dict(G=ts.mnist_generator, D=lambda: ts.mnist_discriminator(True), init=init_seed,
                            loss="gan_bce_logits", data="fashion", range01=True, batch=128, epochs=50,
                            freq=1, adam=ADAM_SEED, loop="inferno", params=(6698945, 6559297)),
    "mnist_wgangp": dict(G=ts.mnist_generator, D=lambda: ts.mnist_discriminator(False), init=init_seed,
                         loss="wgan_gp", lam=20.0, data="fashion", range01=True, batch=128, epochs=100,
                         freq=10, adam=ADAM_SEED, loop="inferno", params=(6698945, 6556865)),
    "mnist_cwgangp": dict(G=CondGenerator, D=CondCritic, init=init_seed, loss="cwgan_gp", lam=20.0,
                          classes=10, data="fashion", labels=True, range01=True, batch=128, epochs=50,
                          freq=10, adam=ADAM_SEED, loop="inferno", params=(6732033, 6589953)),
    "dcgan_mnist64": dict(G=dcgan_generator, D=dcgan_discriminator, init=init_dcgan, loss="bce_sigmoid",
                          data="fashion", range01=False, resize=64, batch=128, epochs=20, freq=0,
                          adam=ADAM_DCGAN, loop="notebook", params=(12656257, 11033985)),
    "cifar10_wgangp": dict(G=ts.cifar_generator, D=ts.cifar_critic, init=init_seed, loss="wgan_gp",
                           lam=10.0, data="cifar", range01=True, batch=64, epochs=100, freq=10,
                           adam=ADAM_SEED, loop="inferno", params=(4993283, 4855745)),
}


def count_params(m):
    return sum(p.numel() for p in m.parameters())


# ----------------------------------------------------------------------------------------------
# Data


def read_idx_gz(path):
    if not os.path.exists(path):
        raise SystemExit(f"Fashion-MNIST file not found: {path} (pass --data DIR)")
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims).copy()


def load_fashion(directory):
    images = read_idx_gz(os.path.join(directory, "train-images-idx3-ubyte.gz"))[:, None]   # (60000,1,28,28)
    labels = read_idx_gz(os.path.join(directory, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    return images, labels


def load_cifar(directory):
    if directory is None:
        raise SystemExit("cifar10_wgangp needs --cifar DIR (the CIFAR-10 binary version: data_batch_1.bin .. data_batch_5.bin)")
    nested = os.path.join(directory, "cifar-10-batches-bin")     # the archive's own folder
    if not os.path.isfile(os.path.join(directory, "data_batch_1.bin")) and os.path.isdir(nested):
        directory = nested
    files = [os.path.join(directory, f"data_batch_{i}.bin") for i in range(1, 6)]
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise SystemExit(f"CIFAR-10 binary batches not found: {', '.join(missing)} "
                         f"(--cifar must name the folder holding data_batch_1.bin .. data_batch_5.bin)")
    recs = []
    for f in files:
        raw = np.fromfile(f, np.uint8)
        if raw.size % 3073:
            raise SystemExit(f"{f}: {raw.size} bytes is not a whole number of 3073-byte CIFAR-10 records")
        recs.append(raw.reshape(-1, 3073))
    recs = np.concatenate(recs)
    return recs[:, 1:].reshape(-1, 3, 32, 32).copy(), recs[:, 0].astype(np.int64)


def resize_bytes_bilinear(u8, size):
    """(N,C,h,w) uint8 -> (N,C,size,size) float byte values: horizontal then vertical bilinear
    pass (half-pixel centres, edge clamp), each rounded to bytes like Pillow's BILINEAR upscale."""
    x = torch.from_numpy(u8).float()
    x = F.interpolate(x, size=(x.shape[2], size), mode="bilinear", align_corners=False, antialias=False)
    x = torch.floor(x + 0.5).clamp_(0, 255)
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
    return torch.floor(x + 0.5).clamp_(0, 255)


class Batches:
    """Batches by (epoch, index): a fresh seeded permutation per epoch, drop_last false."""

    def __init__(self, images, labels, batch, seed, range01, resize=None):
        self.images, self.labels, self.batch = images, labels, batch
        self.range01, self.resize = range01, resize
        self.count = len(images)
        self.per_epoch = (self.count + batch - 1) // batch
        self.gen = torch.Generator().manual_seed(seed + 0x5EED)
        self.epoch, self.perm = -1, None

    def get(self, epoch, index):
        while self.epoch < epoch:
            self.perm = torch.randperm(self.count, generator=self.gen).numpy()
            self.epoch += 1
        idx = self.perm[index * self.batch:(index + 1) * self.batch]
        u8 = self.images[idx]
        x = resize_bytes_bilinear(u8, self.resize) if self.resize else torch.from_numpy(u8).float()
        x = x / 255.0 if self.range01 else (x / 255.0 - 0.5) / 0.5
        y = torch.from_numpy(self.labels[idx]) if self.labels is not None else None
        return x, y


# ----------------------------------------------------------------------------------------------
# Training


def set_requires_grad(m, flag):
    for p in m.parameters():
        p.requires_grad_(flag)


def critic_gp(D, real, fake, lam, y=None):
    """lambda * mean((||d sum D(x_mix) / d x_mix||_2 - 1)^2), x_mix = a*real + (1-a)*fake."""
    alpha = torch.rand(real.shape[0], 1, 1, 1)
    xmix = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    ymix = D(xmix) if y is None else D(xmix, y)
    grads, = torch.autograd.grad(ymix.sum(), xmix, create_graph=True)
    norm = torch.sqrt((grads ** 2).sum(dim=(1, 2, 3)))
    return lam * ((norm - 1) ** 2).mean()


def d_step(cfg, G, D, opt_d, x, y):
    n = x.shape[0]
    opt_d.zero_grad(set_to_none=True)
    with torch.no_grad():            # G in train mode: its BN running stats update, as in the seed
        z = torch.randn(n, LATENT)
        fake = G(z) if y is None else G(z, y)
    kind = cfg["loss"]
    if kind == "gan_bce_logits":
        d_real, d_fake = D(x), D(fake)
        loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
    elif kind == "bce_sigmoid":
        d_real, d_fake = D(x), D(fake)
        loss = (F.binary_cross_entropy(d_real, torch.ones_like(d_real))
                + F.binary_cross_entropy(d_fake, torch.zeros_like(d_fake)))
    elif kind == "wgan_gp":
        d_real, d_fake = D(x), D(fake)
        loss = d_fake.mean() - d_real.mean() + critic_gp(D, x, fake, cfg["lam"])
    elif kind == "cwgan_gp":
        d_real, d_fake = D(x, y), D(fake, y)   # fakes conditioned on the real batch's labels
        loss = d_fake.mean() - d_real.mean() + critic_gp(D, x, fake, cfg["lam"], y)
    else:
        raise AssertionError(kind)
    loss.backward()
    opt_d.step()
    return loss.item()


def g_step(cfg, G, D, opt_g, n):
    opt_g.zero_grad(set_to_none=True)
    set_requires_grad(D, False)       # D's gradients from the G step are never applied
    z = torch.randn(n, LATENT)
    if cfg["loss"] == "cwgan_gp":
        y = torch.floor(torch.rand(n) * cfg["classes"]).long()
        out = D(G(z, y), y)
    else:
        out = D(G(z))
    if cfg["loss"] == "gan_bce_logits":
        loss = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
    elif cfg["loss"] == "bce_sigmoid":
        loss = F.binary_cross_entropy(out, torch.ones_like(out))
    else:
        loss = -out.mean()
    loss.backward()
    opt_g.step()
    set_requires_grad(D, True)
    return loss.item()


def train(cfg, G, D, opt_g, opt_d, data, epochs, max_steps=None, prefix="", note=""):
    """The loop; returns (iterations, g_steps, last d_loss, last g_loss)."""
    B = data.per_epoch
    full = epochs * B + (1 if cfg["loop"] == "inferno" else 0)
    planned = min(full, max_steps) if max_steps else full
    log(f"{prefix}{planned} D iterations ({epochs} epoch(s) of {B} batches), "
        f"G every {cfg['freq'] + 1} D steps, {note}")
    it = g_steps = count = 0
    epoch, cursor = 0, 0
    d_loss = g_loss = None
    t0 = time.perf_counter()
    while it < planned:
        if cursor == B:                 # past the last batch: next epoch, first batch
            epoch, cursor = epoch + 1, 0
        x, y = data.get(epoch, cursor)
        cursor += 1
        d_loss = d_step(cfg, G, D, opt_d, x, y)
        count += 1                      # the seed's counter: never reset at epoch ends
        if count > cfg["freq"]:
            count = 0
            n = x.shape[0] if cfg["loop"] == "notebook" else cfg["batch"]
            g_loss = g_step(cfg, G, D, opt_g, n)
            g_steps += 1
        it += 1
        if it % 50 == 0 or it == planned:
            el = time.perf_counter() - t0
            log(f"  it {it}/{planned} epoch {epoch} d_loss {d_loss:.4f} g_loss "
                f"{'-' if g_loss is None else f'{g_loss:.4f}'} {el / it:.3f} s/it")
    return it, g_steps, d_loss, g_loss


def export_generator(G, cfg, path):
    G.eval()
    z = torch.randn(2, LATENT)
    if cfg["loss"] == "cwgan_gp":
        args, names = (z, torch.tensor([1, 7], dtype=torch.int64)), ["z", "y"]
    else:
        args, names = (z,), ["z"]
    axes = {n: {0: "N"} for n in names + ["image"]}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # the TorchScript exporter is asked for
        torch.onnx.export(G, args, path, input_names=names, output_names=["image"], dynamo=False,
                          opset_version=17, dynamic_axes=axes)


def main():
    ap = argparse.ArgumentParser(description="PyTorch reference trainer for Gannet's seed experiments.")
    ap.add_argument("spec", choices=sorted(SPECS))
    ap.add_argument("--out", required=True, help="ONNX file for the trained generator")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--max-steps", type=int, default=None, help="stop after K D iterations")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--cifar", default=None, help="folder with CIFAR-10 data_batch_1..5.bin")
    a = ap.parse_args()
    if a.epochs < 1 or (a.max_steps is not None and a.max_steps < 1) or a.threads < 1:
        ap.error("--epochs, --max-steps and --threads must be >= 1")
    cfg = SPECS[a.spec]

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(a.seed)

    if cfg["data"] == "cifar":
        images, labels = load_cifar(a.cifar)
    else:
        images, labels = load_fashion(a.data)
    data = Batches(images, labels if cfg.get("labels") else None, cfg["batch"], a.seed,
                   cfg["range01"], cfg.get("resize"))

    G, D = cfg["G"](), cfg["D"]()
    cfg["init"](G)
    cfg["init"](D)
    counts = (count_params(G), count_params(D))
    if counts != cfg["params"]:
        raise SystemExit(f"{a.spec}: parameter counts {counts} differ from the spec's {cfg['params']}")
    G.train()
    D.train()
    opt_g = torch.optim.Adam(G.parameters(), **cfg["adam"])
    opt_d = torch.optim.Adam(D.parameters(), **cfg["adam"])

    t0 = time.perf_counter()
    it, g_steps, d_loss, g_loss = train(cfg, G, D, opt_g, opt_d, data, a.epochs, a.max_steps,
                                        f"{a.spec}: ", f"{a.threads} thread(s), seed {a.seed}")
    seconds = time.perf_counter() - t0

    export_generator(G, cfg, a.out)
    print(json.dumps({"spec": a.spec, "iterations": it, "g_steps": g_steps, "epochs": a.epochs,
                      "seconds": round(seconds, 3), "seconds_per_iteration": round(seconds / max(it, 1), 4),
                      "d_loss": d_loss, "g_loss": g_loss, "torch": torch.__version__,
                      "threads": a.threads, "seed": a.seed, "out": a.out}), flush=True)


if __name__ == "__main__":
    main()
