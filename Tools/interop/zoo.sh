#!/usr/bin/env bash
# The model zoo check (issue 14 item 3): exports real CNN architectures and GAN generators with
# both PyTorch exporters (Tools/interop/export_zoo.py) into a scratch directory, then runs every
# export in Gannet and in ONNX Runtime on the same inputs (Tools/interop/check_zoo.py, rtol 1e-4,
# atol 1e-5) at three batch sizes, so the dynamic batch axis is exercised, and at batch 32 the
# memory-bound networks run as chunks of one image (Runtime/Program+BatchChunks.swift).
#
# Usage: Tools/interop/zoo.sh [--all] [--batches 2,3,32] [--exporters ts17,dyn18] [MODEL ...]
#   default   the CI set (export_zoo.py's CI_SET; `export_zoo.py --list` marks it), both
#             exporters, batches 2, 3 and 32
#   --all     the whole zoo: 9 torchvision CNNs (resnet18 … inception_v3) and 6 GAN generators
#   MODEL     only these models (names: export_zoo.py --list)
# Env:   PYTHON  a python with torch 2.13 (CPU), torchvision 0.28.0 (--no-deps), onnxscript, onnx
#                1.22 and onnxruntime (default: the interop venv that Tools/scripts/python-env.sh
#                makes, which has them all)
#        GANNET  (default .build/release/gannet); KEEP=1 keeps the exported files (printed)
# Output: check_zoo.py's lines ("ok   zoo/KEY/bB: …" / "FAIL zoo/KEY/bB: …"), export failures as
# "FAIL zoo/KEY: …", and "zoo: N passed, N failed". Exit 1 when anything failed, 2 on setup errors.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
set_args=(--set ci); batches=2,3,32; exporters=ts17,dyn18; models=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --all) set_args=(--set all) ;;
        --batches) batches="$2"; shift ;;
        --exporters) exporters="$2"; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) models+=("$1") ;;
    esac
    shift
done
PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then PY="$(Tools/scripts/python-env.sh)" || { echo "error: could not set up the Python venv" >&2; exit 2; }; fi
if ! missing="$("$PY" - <<'PYEOF' 2>&1
import importlib.util
need = {"torch": "torch==2.13.0+cpu", "onnxscript": "onnxscript", "onnx": "onnx==1.22.0",
        "onnxruntime": "onnxruntime", "torchvision": "torchvision==0.28.0 (pip install --no-deps)"}
gone = [v for k, v in need.items() if importlib.util.find_spec(k) is None]
if gone:
    raise SystemExit(", ".join(gone))
PYEOF
)"; then
    echo "FAIL zoo: $PY lacks $missing; the zoo check exports with PyTorch: run Tools/scripts/python-env.sh (it installs them into .venv) or set PYTHON to a python that has them"
    echo "zoo: 0 passed, 1 failed"
    exit 1
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/gannet-zoo.XXXXXX")"
if [[ "${KEEP:-}" != 1 ]]; then trap 'rm -rf "$tmp"' EXIT; fi
"$PY" Tools/interop/export_zoo.py --out "$tmp" "${set_args[@]}" --exporters "$exporters" "${models[@]}"
export_status=$?
[[ $export_status -le 1 ]] || { echo "error: export_zoo.py failed (status $export_status)" >&2; exit 2; }
"$PY" Tools/interop/check_zoo.py "$tmp" --batches "$batches"
check_status=$?
[[ "${KEEP:-}" == 1 ]] && echo "exported models: $tmp"
[[ $export_status -eq 0 && $check_status -eq 0 ]]
