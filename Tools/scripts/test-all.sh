#!/usr/bin/env bash
# All tests: install, check generated sources are reproducible, build release, run the Swift test suites (release, so SIMD kernels run
# at speed), then the interop checks against ONNX Runtime, PyTorch exports, Pillow, TensorBoard
# and scipy, and the ONNX conformance selection: every [tier1] case must pass; the [tier2]
# count is reported and does not fail the run; every light/ model (Tools/conformance/light_models.py)
# must pass. Last, a libFuzzer smoke run of each target
# (Tools/fuzz/run.sh; FUZZ_SECONDS per target, default 60; 0 skips them).
set -euo pipefail
cd "$(dirname "$0")/../.."
Tools/scripts/install-deps.sh
Tools/scripts/check-generated.sh
swift build -c release
swift test -c release
Tools/scripts/python-env.sh >/dev/null
if [ -x Tools/interop/run.sh ]; then Tools/interop/run.sh; fi
if [ -x Tools/conformance/run.sh ]; then
  Tools/conformance/run.sh tier1
  echo "tier2 (informational, not required to pass):"
  { Tools/conformance/run.sh tier2 || true; } | tail -1
  # The backend's light/ CNN models (AlexNet … ZFNet512), about 1.5 minutes.
  py="${PYTHON:-.venv/bin/python}"; [ -x "$py" ] || py=python3
  "$py" Tools/conformance/light_models.py
fi
# libFuzzer smoke runs: every target for FUZZ_SECONDS (default 60) each; FUZZ_SECONDS=0 skips.
if [ "${FUZZ_SECONDS:-60}" != 0 ]; then Tools/fuzz/run.sh all "${FUZZ_SECONDS:-60}"; fi
