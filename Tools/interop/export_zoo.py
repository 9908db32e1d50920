#!/usr/bin/env python3
"""Exports the model zoo of issue 14 (real CNN architectures and GAN generators) to ONNX with
both PyTorch exporters. Random weights, no downloads.

    export_zoo.py --out DIR [--set ci|all] [--exporters ts17,dyn18] [MODEL ...]
    export_zoo.py --list

Writes DIR/NAME_EXPORTER.onnx for every model and exporter, and DIR/manifest.json:
  {"files": {"NAME_EXPORTER": {"model": NAME, "exporter": EXPORTER, "family": "cnn"|"gan",
             "dynamic": true|false, "inputs": [{"name": ..., "shape": [dims after batch]}]}},
   "failed": {"NAME_EXPORTER": "why the export failed"}}
An export failure is printed to stderr and recorded (check_zoo.py counts it as a failed check);
the exit status is then 1.
Exporters: ts17 = TorchScript (`dynamo=False`, opset 17, `dynamic_axes`), dyn18 = dynamo
(`dynamo=True`, opset 18, `dynamic_shapes` with a batch `Dim`). Every input and output has a
dynamic batch axis 0, except stylegan_grouped (see below).

Models (weights: torch.manual_seed of the model's index in ZOO, PyTorch's default init; eval mode):
  CNNs (torchvision 0.28 definitions, weights=None), 224x224 RGB input unless noted:
    resnet18, mobilenet_v2, mobilenet_v3_small, squeezenet1_1, vgg11_bn, densenet121,
    shufflenet_v2_x1_0, efficientnet_b0, inception_v3 (aux_logits=False, init_weights=False, 299x299).
    BatchNorm running statistics are calibrated (train mode, cumulative average over 3 random
    batches, no gradient) before eval, so eval-mode activations have a realistic O(1) scale.
  GAN generators, written here as they are written now:
    pix2pix_unet      pix2pix U-Net (junyanz's UnetSkipConnectionBlock): 64x64, ngf 32, 6 downs,
                      InstanceNorm (affine=False), Dropout (eval), skip Concats, ConvTranspose,
                      in-place LeakyReLU on the skip input as in the original.
    cyclegan_resnet   CycleGAN ResnetGenerator: ReflectionPad2d, InstanceNorm, 2 strided downs,
                      6 residual blocks, 2 ConvTranspose ups (output_padding 1), 64x64, ngf 32.
    dcgan_upsample    z[128] -> Linear -> 4x4x512 -> 4 x (nn.Upsample nearest -> Conv3 -> BN -> ReLU)
                      -> Conv3 -> Tanh: 64x64.
    sagan             SAGAN generator: spectral-norm ConvTranspose stack (BN, ReLU; the
                      normalised weights fixed before export, as for deployment) with
                      self-attention blocks (1x1 convs, view, permute, bmm, Softmax, gamma*out+x)
                      at 16x16 and 32x32; 64x64 Tanh output.
    stylegan          StyleGAN2-like: PixelNorm + 8-layer equalized-lr mapping network, learned
                      constant repeated to the batch (Tile), modulated convs with weight
                      demodulation as StyleGAN2-ADA's non-fused path (x*s -> conv -> x*d),
                      bilinear upsampling, modulated 1x1 toRGB: w[N,256] inputs z, 32x32 output.
    stylegan_grouped  the same network with the fused modulated conv (per-sample weights
                      reshaped to (N*out, in, k, k), input viewed as (1, N*in, H, W), Conv with
                      group = N). ONNX's Conv `group` is an attribute, so this form is exported
                      at a FIXED batch of 2 (no exporter can make it dynamic).
The 'ci' set (CI_SET; `--list` marks it) is what Tools/interop/run.sh checks in CI.

torchvision: 0.28.0 is installed with --no-deps (pip install --no-deps torchvision==0.28.0). Its
package __init__ fails to import against this torch ("operator torchvision::nms does not exist":
its compiled ops do not match), but the pure-Python model definitions work when imported through
a stub package, which `torchvision_models()` below does: a module object named "torchvision"
whose __path__ is the installed package directory, so `torchvision.models` imports without
running torchvision/__init__.py.

Needs: torch 2.13 (CPU), torchvision 0.28.0 (--no-deps), onnx, onnxscript (dynamo exporter),
numpy. Tools/scripts/python-env.sh installs them into .venv.
"""
import argparse
import contextlib
import importlib.util
import io
import json
import math
import os
import sys
import types
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm


def torchvision_models():
    """torchvision.models imported without torchvision/__init__.py (see the module docstring)."""
    if "torchvision.models" in sys.modules:
        return sys.modules["torchvision.models"]
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("error: torchvision is not installed; pip install --no-deps torchvision==0.28.0")
    pkg = types.ModuleType("torchvision")
    pkg.__path__ = list(spec.submodule_search_locations)
    pkg.__spec__ = spec  # the dynamo exporter asks importlib.util.find_spec("torchvision")
    sys.modules["torchvision"] = pkg
    import torchvision.models as tvm
    return tvm


# ---------------------------------------------------------------------------------------------
# GAN generators


class UnetSkipBlock(nn.Module):
    """pix2pix's UnetSkipConnectionBlock: down (LeakyReLU, Conv4 s2, norm) -> submodule ->
    up (ReLU, ConvTranspose4 s2, norm[, Dropout]), output concatenated with the input."""

    def __init__(self, outer_nc, inner_nc, input_nc=None, submodule=None, outermost=False,
                 innermost=False, use_dropout=False):
        super().__init__()
        self.outermost = outermost
        norm = nn.InstanceNorm2d  # affine=False, no running stats: pix2pix's 'instance' norm
        input_nc = outer_nc if input_nc is None else input_nc
        downconv = nn.Conv2d(input_nc, inner_nc, 4, 2, 1, bias=True)
        downrelu = nn.LeakyReLU(0.2, True)
        uprelu = nn.ReLU(True)
        if outermost:
            model = [downconv, submodule, uprelu, nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1), nn.Tanh()]
        elif innermost:
            model = [downrelu, downconv, uprelu, nn.ConvTranspose2d(inner_nc, outer_nc, 4, 2, 1, bias=True), norm(outer_nc)]
        else:
            model = [downrelu, downconv, norm(inner_nc), submodule,
                     uprelu, nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, 2, 1, bias=True), norm(outer_nc)]
            if use_dropout:
                model.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*model)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    def __init__(self, input_nc=3, output_nc=3, num_downs=6, ngf=32):
        super().__init__()
        block = UnetSkipBlock(ngf * 8, ngf * 8, innermost=True)
        for _ in range(num_downs - 5):
            block = UnetSkipBlock(ngf * 8, ngf * 8, submodule=block, use_dropout=True)
        block = UnetSkipBlock(ngf * 4, ngf * 8, submodule=block)
        block = UnetSkipBlock(ngf * 2, ngf * 4, submodule=block)
        block = UnetSkipBlock(ngf, ngf * 2, submodule=block)
        self.model = UnetSkipBlock(output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True)

    def forward(self, x):
        return self.model(x)


class ResnetBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=True), nn.InstanceNorm2d(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """CycleGAN's ResnetGenerator with instance norm and reflection padding."""

    def __init__(self, input_nc=3, output_nc=3, ngf=32, n_blocks=6):
        super().__init__()
        model = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=True), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        for i in range(2):
            mult = 2 ** i
            model += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=True),
                      nn.InstanceNorm2d(ngf * mult * 2), nn.ReLU(True)]
        model += [ResnetBlock(ngf * 4) for _ in range(n_blocks)]
        for i in range(2):
            mult = 2 ** (2 - i)
            model += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1, bias=True),
                      nn.InstanceNorm2d(ngf * mult // 2), nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x):
        return self.model(x)


class UpsampleDCGAN(nn.Module):
    """DCGAN generator with nearest upsampling + conv instead of transposed convolutions."""

    def __init__(self, nz=128, ngf=64):
        super().__init__()
        self.c0 = ngf * 8
        self.fc = nn.Linear(nz, 4 * 4 * self.c0)
        layers = [nn.BatchNorm2d(self.c0), nn.ReLU(True)]
        c = self.c0
        for _ in range(4):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c // 2, 3, 1, 1, bias=False),
                       nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.Conv2d(c, 3, 3, 1, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z):
        return self.net(self.fc(z).view(-1, self.c0, 4, 4))


class SelfAttention(nn.Module):
    """SAGAN's self-attention block (Zhang et al. 2019, as in its reference implementations)."""

    def __init__(self, c):
        super().__init__()
        self.query = spectral_norm(nn.Conv2d(c, c // 8, 1))
        self.key = spectral_norm(nn.Conv2d(c, c // 8, 1))
        self.value = spectral_norm(nn.Conv2d(c, c, 1))
        self.gamma = nn.Parameter(torch.tensor(0.7))  # zero at init; a trained value here
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x):
        b, c, h, w = x.size()
        q = self.query(x).view(b, -1, h * w).permute(0, 2, 1)
        k = self.key(x).view(b, -1, h * w)
        attention = self.softmax(torch.bmm(q, k))
        v = self.value(x).view(b, -1, h * w)
        out = torch.bmm(v, attention.permute(0, 2, 1)).view(b, c, h, w)
        return self.gamma * out + x


class SAGANGenerator(nn.Module):
    def __init__(self, nz=128, ngf=64):
        super().__init__()
        self.nz = nz

        def up(cin, cout, k=4, s=2, p=1):
            return [spectral_norm(nn.ConvTranspose2d(cin, cout, k, s, p)), nn.BatchNorm2d(cout), nn.ReLU(True)]

        self.net = nn.Sequential(
            *up(nz, ngf * 4, 4, 1, 0),          # 4x4
            *up(ngf * 4, ngf * 2),              # 8x8
            *up(ngf * 2, ngf),                  # 16x16
            SelfAttention(ngf),
            *up(ngf, ngf // 2),                 # 32x32
            SelfAttention(ngf // 2),
            spectral_norm(nn.ConvTranspose2d(ngf // 2, 3, 4, 2, 1)), nn.Tanh())  # 64x64

    def forward(self, z):
        return self.net(z.view(z.size(0), self.nz, 1, 1))


class EqualLinear(nn.Module):
    """StyleGAN's equalized-learning-rate linear layer (weights scaled at run time)."""

    def __init__(self, cin, cout, lr_mul=1.0, bias_init=0.0, activate=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(cin)
        self.lr_mul = lr_mul
        self.activate = activate

    def forward(self, x):
        out = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return F.leaky_relu(out, 0.2) * math.sqrt(2) if self.activate else out


class PixelNorm(nn.Module):
    def forward(self, x):
        return x * torch.rsqrt(torch.mean(x ** 2, dim=1, keepdim=True) + 1e-8)


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated convolution. fused=False: StyleGAN2-ADA's non-fused path
    (x * style -> shared conv -> x * demod), batch-dynamic; fused=True: per-sample weights and a
    grouped conv over the batch (groups = N, fixed at export)."""

    def __init__(self, cin, cout, k, style_dim, demodulate=True, fused=False):
        super().__init__()
        self.cin, self.cout, self.k = cin, cout, k
        self.weight = nn.Parameter(torch.randn(1, cout, cin, k, k))
        self.scale = 1 / math.sqrt(cin * k * k)
        self.modulation = EqualLinear(style_dim, cin, bias_init=1)
        self.demodulate, self.fused = demodulate, fused

    def forward(self, x, w):
        b, _, h, wd = x.shape
        s = self.modulation(w)
        weight = self.scale * self.weight * s.view(b, 1, self.cin, 1, 1)  # (b, out, in, k, k)
        if self.fused:
            if self.demodulate:
                d = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
                weight = weight * d.view(b, self.cout, 1, 1, 1)
            weight = weight.view(b * self.cout, self.cin, self.k, self.k)
            out = F.conv2d(x.view(1, b * self.cin, h, wd), weight, padding=self.k // 2, groups=b)
            return out.view(b, self.cout, h, wd)
        out = F.conv2d(x * s.view(b, self.cin, 1, 1), self.scale * self.weight[0], padding=self.k // 2)
        if self.demodulate:
            d = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
            out = out * d.view(b, self.cout, 1, 1)
        return out


class StyleLayer(nn.Module):
    def __init__(self, cin, cout, style_dim, upsample, fused):
        super().__init__()
        self.upsample = upsample
        self.conv = ModulatedConv2d(cin, cout, 3, style_dim, fused=fused)
        self.bias = nn.Parameter(torch.randn(1, cout, 1, 1) * 0.1)

    def forward(self, x, w):
        if self.upsample:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return F.leaky_relu(self.conv(x, w) + self.bias, 0.2) * math.sqrt(2)


class StyleGenerator(nn.Module):
    def __init__(self, style_dim=256, channels=128, fused=False):
        super().__init__()
        self.mapping = nn.Sequential(PixelNorm(), *[EqualLinear(style_dim, style_dim, lr_mul=0.01, activate=True)
                                                    for _ in range(8)])
        self.const = nn.Parameter(torch.randn(1, channels, 4, 4))
        self.layers = nn.ModuleList([
            StyleLayer(channels, channels, style_dim, False, fused),   # 4x4
            StyleLayer(channels, channels, style_dim, True, fused),    # 8x8
            StyleLayer(channels, channels // 2, style_dim, True, fused),  # 16x16
            StyleLayer(channels // 2, channels // 2, style_dim, True, fused)])  # 32x32
        self.to_rgb = ModulatedConv2d(channels // 2, 3, 1, style_dim, demodulate=False, fused=fused)

    def forward(self, z):
        w = self.mapping(z)
        x = self.const.repeat(z.shape[0], 1, 1, 1)
        for layer in self.layers:
            x = layer(x, w)
        return torch.tanh(self.to_rgb(x, w))


# ---------------------------------------------------------------------------------------------
# The zoo

def _tv(name, **kw):
    return lambda: getattr(torchvision_models(), name)(weights=None, **kw)


# name: (family, constructor, input specs [(name, shape after batch)], dynamic batch)
ZOO = {
    "resnet18": ("cnn", _tv("resnet18"), [("image", [3, 224, 224])], True),
    "mobilenet_v2": ("cnn", _tv("mobilenet_v2"), [("image", [3, 224, 224])], True),
    "mobilenet_v3_small": ("cnn", _tv("mobilenet_v3_small"), [("image", [3, 224, 224])], True),
    "squeezenet1_1": ("cnn", _tv("squeezenet1_1"), [("image", [3, 224, 224])], True),
    "vgg11_bn": ("cnn", _tv("vgg11_bn"), [("image", [3, 224, 224])], True),
    "densenet121": ("cnn", _tv("densenet121"), [("image", [3, 224, 224])], True),
    "shufflenet_v2_x1_0": ("cnn", _tv("shufflenet_v2_x1_0"), [("image", [3, 224, 224])], True),
    "efficientnet_b0": ("cnn", _tv("efficientnet_b0"), [("image", [3, 224, 224])], True),
    "inception_v3": ("cnn", _tv("inception_v3", aux_logits=False, init_weights=False), [("image", [3, 299, 299])], True),
    "pix2pix_unet": ("gan", UnetGenerator, [("image", [3, 64, 64])], True),
    "cyclegan_resnet": ("gan", ResnetGenerator, [("image", [3, 64, 64])], True),
    "dcgan_upsample": ("gan", UpsampleDCGAN, [("z", [128])], True),
    "sagan": ("gan", SAGANGenerator, [("z", [128])], True),
    "stylegan": ("gan", lambda: StyleGenerator(fused=False), [("z", [256])], True),
    "stylegan_grouped": ("gan", lambda: StyleGenerator(fused=True), [("z", [256])], False),
}
# The models CI checks (Tools/interop/run.sh → zoo.sh): small ones that pass at this commit
# (results of the whole zoo: Tools/interop/ZOO.md). Export + check of this set, both exporters:
# 69 s user + 5 s sys on the 2-core machine (keep the whole set under ~2 CPU-minutes).
CI_SET = ["pix2pix_unet", "dcgan_upsample", "squeezenet1_1", "mobilenet_v3_small",
          "sagan", "cyclegan_resnet", "stylegan_grouped", "shufflenet_v2_x1_0"]
EXPORTERS = ["ts17", "dyn18"]
EXPORT_BATCH = 2


def build(name):
    """The model `name` with its seeded random weights, BatchNorm calibrated, in eval mode."""
    index = list(ZOO).index(name)
    family, ctor, inputs, _ = ZOO[name]
    torch.manual_seed(1000 + index)
    model = ctor()
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if bns:
        for m in bns:
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batches
        model.train()
        g = torch.Generator().manual_seed(2000 + index)
        with torch.no_grad():
            for _ in range(3):
                model(*[torch.randn([4] + shape, generator=g) for _, shape in inputs])
    model.eval()
    # Spectral norm (SAGAN) as deployed: the eval-mode weight W / sigma(W) fixed into the weight
    # (the TorchScript exporter has no aten::vdot, which the parametrization's eval path calls).
    for m in model.modules():
        if parametrize.is_parametrized(m):
            for p in list(m.parametrizations):
                parametrize.remove_parametrizations(m, p, leave_parametrized=True)
    return model


def example_inputs(name, batch=EXPORT_BATCH):
    g = torch.Generator().manual_seed(3000 + list(ZOO).index(name))
    return tuple(torch.randn([batch] + shape, generator=g) for _, shape in ZOO[name][2])


def export(name, exporter, path, model=None):
    """Exports model `name` with `exporter` ("ts17" or "dyn18") to `path`."""
    family, _, inputs, dynamic = ZOO[name]
    model = model if model is not None else build(name)
    args = example_inputs(name)
    in_names = [n for n, _ in inputs]
    out_names = ["output"]
    # The exporters print progress and warnings (deprecations, dynamic-shape notes): keep them
    # out of the check's output unless the export fails.
    log = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            warnings.simplefilter("ignore")
            if exporter == "ts17":
                axes = {n: {0: "N"} for n in in_names + out_names} if dynamic else None
                torch.onnx.export(model, args, path, dynamo=False, opset_version=17, input_names=in_names,
                                  output_names=out_names, dynamic_axes=axes, do_constant_folding=True)
            elif exporter == "dyn18":
                shapes = None
                if dynamic:
                    batch = torch.export.Dim("N", min=1, max=4096)
                    shapes = tuple({0: batch} for _ in in_names)
                prog = torch.onnx.export(model, args, dynamo=True, opset_version=18, input_names=in_names,
                                         output_names=out_names, dynamic_shapes=shapes, external_data=False)
                prog.save(path, external_data=False)
            else:
                raise ValueError(f"unknown exporter {exporter!r} (have {', '.join(EXPORTERS)})")
    except Exception as e:
        raise RuntimeError(f"{name} ({exporter}): export failed: {type(e).__name__}: {e}\n{log.getvalue()[-2000:]}") from e
    return {"model": name, "exporter": exporter, "family": family, "dynamic": dynamic,
            "inputs": [{"name": n, "shape": s} for n, s in inputs]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*", help="models to export (default: the --set)")
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--set", choices=["ci", "all"], default="all")
    ap.add_argument("--exporters", default=",".join(EXPORTERS), help="comma-separated: ts17, dyn18")
    ap.add_argument("--list", action="store_true", help="print the model names (and the ci set) and exit")
    a = ap.parse_args()
    if a.list:
        for n, (family, _, inputs, dynamic) in ZOO.items():
            print(f"{n:20s} {family}  {'ci ' if n in CI_SET else '   '} {inputs}{'' if dynamic else '  fixed batch 2'}")
        return 0
    if not a.out:
        ap.error("--out DIR is required")
    models = a.models or (CI_SET if a.set == "ci" else list(ZOO))
    unknown = [m for m in models if m not in ZOO]
    exporters = a.exporters.split(",")
    bad = [e for e in exporters if e not in EXPORTERS]
    if unknown or bad:
        ap.error(f"unknown model(s) {unknown} or exporter(s) {bad}; models: {', '.join(ZOO)}")
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(int(os.environ.get("EXPORT_THREADS", "2")))
    manifest_path = os.path.join(a.out, "manifest.json")
    manifest = {"files": {}}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    failed = 0
    for name in models:
        model = build(name)
        for e in exporters:
            key = f"{name}_{e}"
            manifest.setdefault("failed", {}).pop(key, None)
            try:
                manifest["files"][key] = export(name, e, os.path.join(a.out, key + ".onnx"), model)
                print(f"exported {key}.onnx", file=sys.stderr, flush=True)
            except RuntimeError as err:
                print(f"error: {err}", file=sys.stderr, flush=True)
                manifest["files"].pop(key, None)
                manifest["failed"][key] = str(err).splitlines()[0]
                failed += 1
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
