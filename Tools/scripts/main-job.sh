#!/usr/bin/env bash
# The main job: install, build the fast release binaries, and run the seed MNIST generator
# (random weights until training lands) into a PNG grid.
set -euo pipefail
cd "$(dirname "$0")/../.."
Tools/scripts/install-deps.sh --data
swift build -c release
.build/release/gannet demo --n 64 --threads 2 --out demo.png
.build/release/gannet bench model seed:mnist-generator --batch 64 --threads 2
