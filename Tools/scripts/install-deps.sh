#!/usr/bin/env bash
# Installs the Debian packages Gannet builds and runs with (idempotent; needs root or sudo).
# Usage: Tools/scripts/install-deps.sh [--data]   (--data also installs Fashion-MNIST)
set -euo pipefail
pkgs=(libprotobuf-c-dev protobuf-c-compiler libpng-dev libturbojpeg0-dev zlib1g-dev pkg-config python3-venv libopenmpi-dev openmpi-bin)
[ "${1:-}" = "--data" ] && pkgs+=(dataset-fashion-mnist)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
