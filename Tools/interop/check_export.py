#!/usr/bin/env python3
"""Checks a model exported by Gannet against the ONNX standard and ONNX Runtime.

    check_export.py MODEL.onnx [--input FILE.pb ...] [--output FILE.pb ...]
                    [--rtol 1e-3] [--atol 1e-5] [--batch 2] [--seed 0]

1. onnx.checker.check_model(model, full_check=True) (includes strict shape inference).
2. Runs the model in onnxruntime (CPU, all graph optimizations off) on the --input
   TensorProto files, matched to the graph inputs in order (or by name when every file's
   tensor name is a graph input name). Without --input, inputs are drawn from a seeded
   normal distribution with symbolic dims set to --batch.
3. Compares each graph output with the Gannet output in the matching --output file
   (|actual - expected| <= atol + rtol*|expected|, shapes and dtypes exact).
Prints one line per check and exits non-zero on the first failure.
Needs: pip install onnx==1.22.0 onnxruntime numpy
"""
import argparse
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime as ort


def load_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, onnx.numpy_helper.to_array(t)


def fail(msg):
    print(f"FAIL {msg}")
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--input", action="append", default=[], help="TensorProto file per graph input, in order")
    ap.add_argument("--output", action="append", default=[], help="Gannet's output TensorProto, per graph output")
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-5)
    ap.add_argument("--batch", type=int, default=2, help="size of symbolic dims for generated inputs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    model = onnx.load(args.model)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # checker and shape-inference errors
        fail(f"onnx.checker full_check: {e}")
    print(f"PASS onnx.checker full_check (ir_version {model.ir_version}, opset "
          f"{[(o.domain or 'ai.onnx', o.version) for o in model.opset_import]})")

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    except Exception as e:
        fail(f"onnxruntime load: {e}")
    graph_inputs = sess.get_inputs()
    feeds = {}
    if args.input:
        if len(args.input) != len(graph_inputs):
            fail(f"{len(args.input)} --input files for {len(graph_inputs)} graph inputs")
        loaded = [load_tensor(p) for p in args.input]
        names = [i.name for i in graph_inputs]
        if all(n in names for n, _ in loaded) and len({n for n, _ in loaded}) == len(loaded):
            feeds = {n: a for n, a in loaded}
        else:
            feeds = {i.name: a for i, (_, a) in zip(graph_inputs, loaded)}
    else:
        rng = np.random.default_rng(args.seed)
        for i in graph_inputs:
            shape = [d if isinstance(d, int) else args.batch for d in i.shape]
            if i.type == "tensor(float)":
                feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
            elif i.type == "tensor(int64)":
                feeds[i.name] = np.zeros(shape, dtype=np.int64)
            else:
                fail(f"cannot generate input '{i.name}' of {i.type}; pass --input")
    try:
        outs = sess.run(None, feeds)
    except Exception as e:
        fail(f"onnxruntime run: {e}")
    print(f"PASS onnxruntime run ({', '.join(f'{o.name}{list(a.shape)}' for o, a in zip(sess.get_outputs(), outs))})")

    if args.output:
        if len(args.output) != len(outs):
            fail(f"{len(args.output)} --output files for {len(outs)} graph outputs")
        for o, actual, path in zip(sess.get_outputs(), outs, args.output):
            _, expected = load_tensor(path)
            if actual.shape != expected.shape:
                fail(f"output '{o.name}': onnxruntime shape {actual.shape}, Gannet {expected.shape}")
            if actual.dtype != expected.dtype:
                fail(f"output '{o.name}': onnxruntime dtype {actual.dtype}, Gannet {expected.dtype}")
            if actual.dtype.kind == "f":
                a64, e64 = actual.astype(np.float64), expected.astype(np.float64)
                bad = ~(np.isclose(a64, e64, rtol=args.rtol, atol=args.atol, equal_nan=True))
                if bad.any():
                    i = int(np.argmax(np.abs(a64 - e64) * bad))
                    fail(f"output '{o.name}': {int(bad.sum())} of {bad.size} elements differ; worst at flat index {i}: "
                         f"onnxruntime {actual.flat[i]}, Gannet {expected.flat[i]}")
                err = float(np.max(np.abs(a64 - e64))) if a64.size else 0.0
            else:
                if not np.array_equal(actual, expected):
                    fail(f"output '{o.name}': integer values differ")
                err = 0.0
            print(f"PASS output '{o.name}' matches Gannet (max |diff| {err:.3g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
