#!/usr/bin/env python3
"""Runs the ONNX backend's `light/` CNN models (onnx/backend/test/data/light) through Gannet.

Usage: PYTHON=python-with-onnx-1.22 $PYTHON Tools/conformance/light_models.py [MODEL...]
Env:   GANNET=path/to/gannet (default .build/release/gannet)
       DATA=onnx/backend/test/data directory (default: found in this python's onnx package)

Each model is checked as the ONNX backend test runner checks it (onnx.backend.test.runner,
`_add_model_test` with `use_dummy`): every graph input that is not an initializer gets
arange(n)/n as float32 in the declared shape (a dim without a value counts as 1), and the
expected output is the shipped `light_<name>_output_0.pb`. The light models carry no trained
weights: every weight is a ConstantOfShape fill (0.02) computed at load time, so the check
covers the operators and the graph wiring, not real ImageNet weights.

A temporary test directory (model.onnx + test_data_set_0/input_0.pb, output_0.pb) is made per
model and run with `gannet test-onnx` in its own process (rtol 1e-3, atol 1e-5), so a crash
counts as one failure. Prints one line per model, `PASS name` or `FAIL name: reason`, then
`light: N passed, N failed`; exits 1 when any model failed, 2 when the data are missing.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def dummy_input(value_info):
    """arange(n)/n in the declared shape, as onnx.backend.test.runner's generate_dummy_data."""
    shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in value_info.type.tensor_type.shape.dim)
    n = int(np.prod(shape))
    return (np.arange(n).reshape(shape) / n).astype(np.float32)


def prepare(model_path, case_dir):
    """Writes the test directory for one model; returns an error text or None."""
    prefix = os.path.splitext(model_path)[0]
    model = onnx.load(model_path, load_external_data=False)
    inits = {i.name for i in model.graph.initializer}
    data_dir = os.path.join(case_dir, "test_data_set_0")
    os.makedirs(data_dir)
    os.symlink(os.path.abspath(model_path), os.path.join(case_dir, "model.onnx"))
    k = 0
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        with open(os.path.join(data_dir, f"input_{k}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(dummy_input(vi)).SerializeToString())
        k += 1
    for i in range(len(model.graph.output)):
        expected = f"{prefix}_output_{i}.pb"
        if not os.path.exists(expected):
            return f"no expected output {os.path.basename(expected)}"
        shutil.copy(expected, os.path.join(data_dir, f"output_{i}.pb"))
    return None


def main(argv):
    gannet = os.environ.get("GANNET", os.path.join(ROOT, ".build", "release", "gannet"))
    data = os.environ.get("DATA") or os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    light = os.path.join(data, "light")
    if not os.path.isdir(light):
        print(f"error: no light/ models in {data} (pip install onnx==1.22.0, or set DATA)", file=sys.stderr)
        return 2
    if not os.access(gannet, os.X_OK):
        print(f"error: {gannet} not found (swift build -c release)", file=sys.stderr)
        return 2
    models = sorted(f[len("light_"):-len(".onnx")] for f in os.listdir(light) if f.startswith("light_") and f.endswith(".onnx"))
    if argv:
        unknown = [m for m in argv if m not in models]
        if unknown:
            print(f"error: no light model {', '.join(unknown)} (have: {', '.join(models)})", file=sys.stderr)
            return 2
        models = argv
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="gannet-light-") as tmp:
        for name in models:
            case_dir = os.path.join(tmp, f"light_{name}")
            problem = prepare(os.path.join(light, f"light_{name}.onnx"), case_dir)
            if problem is None:
                r = subprocess.run([gannet, "test-onnx", case_dir], capture_output=True, text=True)
                out = r.stdout + r.stderr
                line = next((l for l in out.splitlines() if l.startswith(("PASS ", "FAIL "))), None)
                if r.returncode == 0 and line and line.startswith("PASS"):
                    print(line, flush=True)
                    passed += 1
                    continue
                problem = line.split(": ", 1)[1] if line and ": " in line else \
                    f"gannet exited with status {r.returncode}: {(out.strip().splitlines() or [''])[-1]}"
            print(f"FAIL light_{name}: {problem}", flush=True)
            failed += 1
    print(f"light: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
