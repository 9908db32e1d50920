#!/usr/bin/env python3
"""Where inception_v3's Gannet-vs-ONNX Runtime difference comes from (Tools/interop/ZOO.md).

    inception_precision.py [--gannet PATH] [--exporter ts17|dyn18] [--batch 2] [--work DIR]

Builds zoo model inception_v3 exactly as export_zoo.py does (seeded random weights, calibrated
BatchNorm, eval mode), exports it, and runs one seeded N(0, 1) batch through
  - PyTorch in float64 (the model and input cast to double): the truth;
  - ONNX Runtime in float32, graph optimizations off and all;
  - Gannet in float32 (`gannet run`, 1 thread).
(a) Per layer: the ONNX file gets every Relu output (one per BasicConv2d, in execution order)
    and every Concat output as extra graph outputs; the BasicConv2d outputs of the float64 model
    (forward hooks, same order) are their truth. For each layer it prints the error of Gannet
    and of ORT against the truth, max |err| / max |truth|, so one can see whether an error starts
    at one operator (a bug) or grows with depth (rounding).
(b) The logits: max |err| and max |err| / max |truth| of Gannet, ORT (opt off) and ORT (opt
    all) against the float64 truth, and how many logits each puts outside the zoo check's
    tolerance (rtol 1e-4, atol 1e-5) when compared with ORT (opt off), as check_zoo.py does.
Needs: torch 2.13, torchvision 0.28 (--no-deps), onnx, onnxruntime, numpy (as export_zoo.py).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnx.numpy_helper as nh
import onnxruntime as ort
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import export_zoo  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5


def ort_run(path, feeds, optimize):
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"]).run(None, feeds)


def gannet_run(gannet, path, x, work):
    f = os.path.join(work, "image.pb")
    with open(f, "wb") as fh:
        fh.write(nh.from_array(x, "image").SerializeToString())
    out = os.path.join(work, "gannet_out")
    subprocess.run([gannet, "run", path, "--input", f"image={f}", "--out", out], check=True, stdout=subprocess.DEVNULL)
    got, i = [], 0
    while os.path.exists(os.path.join(out, f"output_{i}.pb")):
        t = onnx.TensorProto()
        with open(os.path.join(out, f"output_{i}.pb"), "rb") as fh:
            t.ParseFromString(fh.read())
        got.append(nh.to_array(t))
        i += 1
    return got


def rel(a, truth):
    return float(np.max(np.abs(a.astype(np.float64) - truth)) / max(np.max(np.abs(truth)), 1e-30))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gannet", default=os.path.join(ROOT, ".build/release/gannet"))
    ap.add_argument("--exporter", default="ts17", choices=export_zoo.EXPORTERS)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--work", default=None, help="scratch directory (default: a temporary one)")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="gannet-inception.")
    os.makedirs(work, exist_ok=True)
    torch.set_num_threads(2)

    model = export_zoo.build("inception_v3")
    path = os.path.join(work, f"inception_v3_{a.exporter}.onnx")
    export_zoo.export("inception_v3", a.exporter, path, model)
    x = np.random.default_rng(0).standard_normal([a.batch, 3, 299, 299]).astype(np.float32)

    # Float64 truth, with the output of every BasicConv2d (conv, folded BN, ReLU) in call order.
    truth_layers = []
    blocks = [m for m in model.modules() if type(m).__name__ == "BasicConv2d"]
    hooks = [m.register_forward_hook(lambda m, i, o: truth_layers.append(o.detach().numpy())) for m in blocks]
    m64 = model.double()
    with torch.no_grad():
        truth = m64(torch.from_numpy(x.astype(np.float64))).numpy()
    for h in hooks:
        h.remove()

    # The ONNX file with every Relu and Concat output as an extra graph output.
    m = onnx.load(path)
    taps = [(n.op_type, n.output[0]) for n in m.graph.node if n.op_type in ("Relu", "Concat")]
    relus = [name for op, name in taps if op == "Relu"]
    if len(relus) != len(truth_layers):
        sys.exit(f"error: {len(relus)} Relu nodes but {len(truth_layers)} BasicConv2d calls; cannot pair layers")
    for _, name in taps:
        m.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    tapped = os.path.join(work, "inception_v3_taps.onnx")
    onnx.save(m, tapped)

    feeds = {"image": x}
    ort_off = ort_run(tapped, feeds, optimize=False)
    ort_all = ort_run(path, feeds, optimize=True)[0]
    gan = gannet_run(a.gannet, tapped, x, work)
    if len(gan) != len(ort_off):
        sys.exit(f"error: gannet wrote {len(gan)} outputs, ORT {len(ort_off)}")

    print(f"(a) per layer, batch {a.batch}, {a.exporter}: max|err|/max|truth| against float64 PyTorch "
          f"(Relu k = output of BasicConv2d k; Concat = an Inception block's output)")
    print(f"{'layer':>14} {'shape':>22} {'gannet':>10} {'ort':>10} {'gannet-ort':>10}")
    k = 0
    for i, (op, name) in enumerate(taps):
        g, o = gan[1 + i], ort_off[1 + i]
        if op == "Relu":
            t = truth_layers[k]
            label = f"Relu {k}"
            k += 1
            print(f"{label:>14} {str(list(g.shape)):>22} {rel(g, t):10.2e} {rel(o, t):10.2e} {rel(g, o.astype(np.float64)):10.2e}")
        else:
            print(f"{'Concat':>14} {str(list(g.shape)):>22} {'':>10} {'':>10} {rel(g, o.astype(np.float64)):10.2e}")

    print(f"\n(b) logits [{a.batch}, 1000] against float64 PyTorch (max |truth| {np.max(np.abs(truth)):.4g}):")
    ref = ort_off[0].astype(np.float64)
    for label, y in [("gannet f32", gan[0]), ("ORT f32, opt off", ort_off[0]), ("ORT f32, opt all", ort_all)]:
        d = np.abs(y.astype(np.float64) - truth)
        outside = int(np.sum(np.abs(y.astype(np.float64) - ref) > ATOL + RTOL * np.abs(ref)))
        print(f"  {label:18s} max|err| {d.max():.3e}  mean|err| {d.mean():.3e}  rel {rel(y, truth):.3e}  "
              f"outside the check vs ORT(opt off): {outside}")
    d = np.abs(gan[0].astype(np.float64) - truth)
    print(f"  logits outside rtol {RTOL}/atol {ATOL} of the float64 truth: gannet "
          f"{int(np.sum(d > ATOL + RTOL * np.abs(truth)))}, ORT opt off "
          f"{int(np.sum(np.abs(ort_off[0] - truth) > ATOL + RTOL * np.abs(truth)))}, ORT opt all "
          f"{int(np.sum(np.abs(ort_all - truth) > ATOL + RTOL * np.abs(truth)))} (of {truth.size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
