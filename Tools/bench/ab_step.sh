#!/usr/bin/env bash
# Interleaved before/after of one kernel change in one build: runs
# `gannet bench step SPEC --json` alternately with GANNET_BASELINE=NAMES (the kernels named
# there run the algorithm they replaced; Sources/Kernels/KernelBench+Baseline.swift) and
# without, ROUNDS times, and prints each pair's D and G medians and the after/before ratios,
# then the median ratio (< 1: the change is faster). Pairs alternate which side runs first,
# so the machine's drift (other processes, host clock) hits both sides alike.
# Usage: Tools/bench/ab_step.sh NAMES [SPEC=Specs/mnist_gan.yaml] [THREADS=1] [ROUNDS=6] [REPEATS=8]
set -euo pipefail
cd "$(dirname "$0")/../.."
names=${1:?usage: ab_step.sh NAMES [SPEC] [THREADS] [ROUNDS] [REPEATS]}
spec=${2:-Specs/mnist_gan.yaml}; threads=${3:-1}; rounds=${4:-6}; repeats=${5:-8}
bin=.build/release/gannet
[ -x "$bin" ] || swift build -c release >/dev/null
out=$(mktemp); trap 'rm -f "$out"' EXIT
one() {  # $1 = before|after
  local env=()
  [ "$1" = before ] && env=(GANNET_BASELINE="$names")
  echo "$1 $(env "${env[@]}" "$bin" bench step "$spec" --threads "$threads" --repeats "$repeats" --json 2>/dev/null | tail -1)" >>"$out"
}
source Tools/bench/ab_pairs.sh
ab_pairs "$rounds" before after
python3 Tools/bench/ab_summary.py "$out" before after \
  "A/B of '$names' on $spec, $threads thread(s); ms = median step time per run" d_step_ms=D g_step_ms=G
