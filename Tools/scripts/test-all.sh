#!/usr/bin/env bash
# All tests: install, build release, run the Swift test suites (release, so SIMD kernels run
# at speed), then the interop checks against ONNX Runtime and the ONNX conformance selection.
set -euo pipefail
cd "$(dirname "$0")/../.."
Tools/scripts/install-deps.sh
swift build -c release
swift test -c release
if [ -x Tools/interop/run.sh ]; then Tools/interop/run.sh; fi
if [ -x Tools/conformance/run.sh ]; then Tools/conformance/run.sh; fi
