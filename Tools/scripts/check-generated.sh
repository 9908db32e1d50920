#!/bin/sh
# check-generated.sh: regenerates the generated Swift sources into a temporary file and fails
# (exit 1, with the differing byte) when one differs from the committed file.
#   Sources/Kernels/GemmMicrokernels.swift  <- Tools/scripts/gen-gemm-microkernels.swift
set -e
cd "$(dirname "$0")/../.."
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
swift Tools/scripts/gen-gemm-microkernels.swift > "$tmp"
cmp "$tmp" Sources/Kernels/GemmMicrokernels.swift
echo "generated sources are up to date"
