#!/usr/bin/env bash
# Creates .venv with every Python package the interop checks use and prints the venv's python
# path. One pip call installs onnx 1.22.0 (the last wheel that ships the backend node test data),
# onnxruntime, numpy, scipy (FID oracle), pillow (GIF decoding), tensorboard (event files), and,
# for the model zoo check (Tools/interop/zoo.sh: PyTorch exports of real CNNs and GAN
# generators), torch 2.13.0+cpu (the CPU wheel the machine image ships in pip's find-links
# directory) and onnxscript (the dynamo exporter); a second call installs torchvision 0.28.0
# (the release matching torch 2.13) with --no-deps, so it cannot replace that torch: its
# compiled ops do not load against it, and Tools/interop/export_zoo.py imports only its
# pure-Python model definitions; pytorch-fid 0.3.0 (also --no-deps) is the oracle of the
# Inception FID check (Tools/interop/check_inception_fid.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
need='import onnx, onnxruntime, numpy, scipy, PIL, tensorboard, torch, onnxscript, importlib.util as u; assert u.find_spec("torchvision") and u.find_spec("pytorch_fid")'
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "$need" 2>/dev/null; then
  [ -x .venv/bin/python ] || python3 -m venv .venv >&2
  .venv/bin/pip install -q --disable-pip-version-check 'onnx==1.22.0' onnxruntime numpy scipy pillow tensorboard \
    'torch==2.13.0+cpu' onnxscript >&2
  .venv/bin/pip install -q --disable-pip-version-check --no-deps 'torchvision==0.28.0' 'pytorch-fid==0.3.0' >&2
fi
echo "$PWD/.venv/bin/python"
