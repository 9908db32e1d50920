#!/usr/bin/env bash
# Creates .venv with every Python package the interop checks use, in one pip call: onnx 1.22.0
# (the last wheel that ships the backend node test data), onnxruntime, numpy, scipy (FID oracle),
# pillow (GIF decoding) and tensorboard (event files). Prints the venv's python path.
# PyTorch is NOT installed here: it is only needed to regenerate fixtures (Tools/fixtures/*.py),
# in a separate venv:  python3 -m venv .venv-torch && .venv-torch/bin/pip install
#   'torch==2.13.0+cpu' 'onnx==1.22.0' onnxruntime numpy onnxscript scipy pillow
#   && .venv-torch/bin/pip install --no-deps torchvision==0.28.0 pytorch-fid==0.3.0
# (pytorch-fid for the Inception FID interop check; Tools/interop/run.sh uses TORCH_PYTHON or
# .venv-torch/bin/python when present).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import onnx, onnxruntime, numpy, scipy, PIL, tensorboard' 2>/dev/null; then
  python3 -m venv .venv >&2
  .venv/bin/pip install -q --disable-pip-version-check 'onnx==1.22.0' onnxruntime numpy scipy pillow tensorboard >&2
fi
echo "$PWD/.venv/bin/python"
