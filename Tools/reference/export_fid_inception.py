#!/usr/bin/env python3
"""Exports pytorch-fid's FID Inception network (the standard FID feature network) to ONNX for
`gan-eval --features inception:PATH.onnx`.

    python Tools/reference/export_fid_inception.py --out pt_inception.onnx
        # pytorch-fid's weights (pt_inception-2015-12-05, the TF FID graph ported): fetched by
        # pytorch-fid on first use, so run it on a machine that can download them
    python Tools/reference/export_fid_inception.py --out random.onnx --random-weights [--seed S]
        # the same architecture with seeded random weights, no download (tests)

Needs torch, onnx and pytorch-fid 0.3.0 (torchvision's model definitions; its compiled ops are
not needed: a package stub is installed when `import torchvision` fails).

Split of the pytorch-fid protocol (both sides consistent, checked by
Tools/interop/check_inception_fid.py):
- Gannet (Swift) maps images to [0, 1], replicates grey to 3 channels, resizes bilinearly to
  299×299 as F.interpolate(size=(299, 299), mode='bilinear', align_corners=False) and maps to
  [-1, 1].
- The ONNX graph is `InceptionV3([3], resize_input=False, normalize_input=False)`: input
  `images` f32[N,3,299,299] in [-1, 1] (dynamic batch N); outputs
  `pool3` f32[N,2048] (the final average pool, flattened: pytorch-fid's FID features) and
  `logits` f32[N,1008] = pool3 · fcᵀ WITHOUT the bias (the checkpoint's 1008-way classifier, as
  the original TF Inception Score code and torch-fidelity's `logits_unbiased` take it), which
  gan-eval's Inception Score uses. `--no-logits` leaves `logits` out (IS is then unavailable).
- Metadata: gannet.input_range "-1,1", gannet.feature_output "pool3", gannet.logits_output
  "logits", gannet.feature_network "pytorch-fid InceptionV3 pool3 (…weights…)".

Export: torch.onnx TorchScript exporter (dynamo=False), opset 17, eval mode (BatchNorm folded
into the convolutions by the exporter's constant folding). With the same --seed, torch version
and CPU, --random-weights is deterministic.
"""
import argparse
import importlib.util
import os
import sys
import types

import torch


def import_pytorch_fid():
    """pytorch_fid.inception, with a package stub for torchvision if its __init__ cannot load
    (a --no-deps install whose compiled ops do not match torch: "torchvision::nms does not exist")."""
    try:
        import torchvision  # noqa: F401
    except Exception:
        for k in [k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")]:
            del sys.modules[k]
        spec = importlib.util.find_spec("torchvision")
        if spec is None:
            sys.exit("error: torchvision is not installed (pytorch-fid needs its model definitions)")
        pkg = types.ModuleType("torchvision")
        pkg.__path__ = list(spec.submodule_search_locations)
        pkg.__version__ = "0.28.0"
        sys.modules["torchvision"] = pkg
        import torchvision.models  # noqa: F401  (the model definitions only)
        import torchvision.models.inception  # noqa: F401
        try:
            from torchvision import version as tv_version
            pkg.__version__ = tv_version.__version__
        except Exception:
            pass
    from pytorch_fid import inception
    return inception


def random_state(template, seed):
    """A seeded random state dict with `template`'s keys and shapes. Convolutions: He-normal
    (fan_in, ReLU gain) so activations keep their scale through the 94 layers; BatchNorm: weight
    U(0.8, 1.2), bias U(-0.1, 0.1), running mean U(-0.1, 0.1), running var U(0.8, 1.2); fc:
    N(0, 1/2048), bias U(-0.1, 0.1)."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in template.items():
        if not torch.is_floating_point(v):
            out[k] = v.clone()
            continue
        def u(lo, hi):
            return torch.rand(v.shape, generator=g, dtype=v.dtype) * (hi - lo) + lo
        if v.dim() == 4:
            fan_in = v.shape[1] * v.shape[2] * v.shape[3]
            out[k] = torch.randn(v.shape, generator=g, dtype=v.dtype) * (2.0 / fan_in) ** 0.5
        elif k.endswith("running_var") or (k.endswith(".weight") and v.dim() == 1):
            out[k] = u(0.8, 1.2)
        elif k.endswith("running_mean") or k.endswith(".bias"):
            out[k] = u(-0.1, 0.1)
        elif v.dim() == 2:
            out[k] = torch.randn(v.shape, generator=g, dtype=v.dtype) / v.shape[1] ** 0.5
        else:
            sys.exit(f"error: no random rule for state entry {k} {tuple(v.shape)}")
    return out


def build(random_weights, seed=0):
    """(pytorch-fid's InceptionV3([3]) with resize/normalise ON — its own protocol — and the fc
    weight). With `random_weights`, pytorch-fid's loader is patched to return a seeded random
    state dict of the model it is loading into (its own keys), so the unmodified
    fid_inception_v3() builds the FID architecture without a download."""
    inception = import_pytorch_fid()
    fc = {}
    original = inception.load_state_dict_from_url

    def loader(url, *args, **kwargs):
        if random_weights:
            # fid_inception_v3() calls this right before `inception.load_state_dict(state_dict)`.
            model = sys._getframe(1).f_locals["inception"]
            state = random_state(model.state_dict(), seed)
        else:
            state = original(url, *args, **kwargs)
        fc["weight"] = state["fc.weight"].clone()
        return state

    inception.load_state_dict_from_url = loader
    try:
        torch.manual_seed(seed)
        net = inception.InceptionV3([inception.InceptionV3.BLOCK_INDEX_BY_DIM[2048]])
    finally:
        inception.load_state_dict_from_url = original
    net.eval()
    return net, fc["weight"]


class Pool3Logits(torch.nn.Module):
    """pytorch-fid's network without its resize/normalise: [N,3,299,299] in [-1,1] → pool3
    [N,2048] (and logits [N,1008] = pool3·fcᵀ, no bias)."""

    def __init__(self, net, fc_weight, logits):
        super().__init__()
        self.blocks = net.blocks
        self.logits = logits
        self.register_buffer("fc_t", fc_weight.t().contiguous().clone() if logits else torch.zeros(1))

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        pool3 = x.flatten(1)
        if self.logits:
            return pool3, pool3 @ self.fc_t
        return pool3


def export(net, fc_weight, path, logits=True, weights="pytorch-fid pt_inception-2015-12-05"):
    import onnx
    model = Pool3Logits(net, fc_weight, logits).eval()
    outputs = ["pool3", "logits"] if logits else ["pool3"]
    axes = {n: {0: "N"} for n in ["images"] + outputs}
    x = torch.zeros(1, 3, 299, 299)
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, input_names=["images"], output_names=outputs, dynamo=False,
                          opset_version=17, dynamic_axes=axes, do_constant_folding=True)
    m = onnx.load(path)
    meta = {"gannet.input_range": "-1,1", "gannet.feature_output": "pool3",
            "gannet.feature_network": f"pytorch-fid InceptionV3 pool3 ({weights})"}
    if logits:
        meta["gannet.logits_output"] = "logits"
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(m, path)
    onnx.checker.check_model(path, full_check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="ONNX file to write")
    ap.add_argument("--random-weights", action="store_true", help="seeded random weights, no download")
    ap.add_argument("--seed", type=int, default=0, help="seed of --random-weights")
    ap.add_argument("--no-logits", action="store_true", help="export pool3 only (no IS)")
    a = ap.parse_args()
    net, fc = build(a.random_weights, a.seed)
    what = f"random weights, seed {a.seed}" if a.random_weights else "pytorch-fid pt_inception-2015-12-05"
    export(net, fc, a.out, logits=not a.no_logits, weights=what)
    print(f"wrote {a.out} ({os.path.getsize(a.out) / 1e6:.1f} MB; {what})")


if __name__ == "__main__":
    main()
