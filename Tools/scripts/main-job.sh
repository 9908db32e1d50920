#!/usr/bin/env bash
# The main job: install what Gannet needs (Fashion-MNIST from Debian's dataset-fashion-mnist
# included), build the fast release binaries, train a short run on Fashion-MNIST with visible
# progress, and sample from the shipped models in Models/.
set -euo pipefail
cd "$(dirname "$0")/../.."
Tools/scripts/install-deps.sh --data
swift build -c release
bin=.build/release
# A short training run of the shipped spec (the full one is in Models/README.md).
$bin/gan-train Specs/fashion_dcgan.yaml --max-steps 300 --out runs/quickstart --overwrite
$bin/gan-sample runs/quickstart/generator.pb --n 64 --seed 0 --out runs/quickstart/samples.png
# The shipped, fully trained models.
$bin/gan-sample Models/fashion_dcgan.pb --n 64 --seed 0 --out samples.png
$bin/gan-sample Models/fashion_cdcgan.pb --class all --n 10 --seed 0 --out samples_by_class.png
$bin/gan-interpolate Models/fashion_dcgan.pb --seeds 0,1,2 --steps 30 --loop --out walk.gif
echo "wrote samples.png, samples_by_class.png, walk.gif and runs/quickstart/ (TensorBoard: tensorboard --logdir runs)"
