#!/usr/bin/env bash
# Regenerates the protobuf-c code for ONNX from the pinned Tools/protobuf/onnx.proto.
#
# Needs Debian's protobuf-c-compiler (protoc-c) and libprotobuf-c-dev:
#   apt-get install -y libprotobuf-c-dev protobuf-c-compiler
# Output (committed):
#   Sources/CONNXProto/onnx.pb-c.c
#   Sources/CONNXProto/include/onnx.pb-c.h
# To move to another onnx release, replace onnx.proto with the one inside that release's
# wheel (onnx/onnx.proto), keep the header comment up to date, and rerun this script.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/Sources/CONNXProto"
command -v protoc-c >/dev/null || { echo "error: protoc-c not found (apt-get install protobuf-c-compiler)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && protoc-c --c_out="$tmp" onnx.proto)
mkdir -p "$out/include"
# The generated .c includes "onnx.pb-c.h" (same directory); the header lives in include/,
# which SwiftPM puts on the C target's header search path, so the quoted include still
# resolves. Normalise it to the bare file name in case protoc-c emitted a path prefix.
sed -e 's|#include "[^"]*onnx\.pb-c\.h"|#include "onnx.pb-c.h"|' "$tmp/onnx.pb-c.c" > "$out/onnx.pb-c.c"
cp "$tmp/onnx.pb-c.h" "$out/include/onnx.pb-c.h"
echo "wrote $out/onnx.pb-c.c and $out/include/onnx.pb-c.h ($(protoc-c --version | head -1))"
