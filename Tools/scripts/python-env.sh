#!/usr/bin/env bash
# Creates .venv with the Python packages the interop checks use (onnx with its backend test
# data, onnxruntime, numpy). Prints the venv's python path.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import onnx, onnxruntime, numpy' 2>/dev/null; then
  python3 -m venv .venv >&2
  .venv/bin/pip install -q --disable-pip-version-check 'onnx==1.22.0' onnxruntime numpy >&2
fi
echo "$PWD/.venv/bin/python"
