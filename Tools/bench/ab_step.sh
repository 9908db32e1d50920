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
for r in $(seq "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then one before; one after; else one after; one before; fi
done
python3 - "$out" "$names" "$spec" "$threads" <<'PY'
import json, sys, statistics
rows = [l.split(" ", 1) for l in open(sys.argv[1]) if l.strip()]
b = [json.loads(j) for k, j in rows if k == "before"]
a = [json.loads(j) for k, j in rows if k == "after"]
print(f"A/B of '{sys.argv[2]}' on {sys.argv[3]}, {sys.argv[4]} thread(s); ms = median step time per run")
print("pair  D before  D after  ratio   G before  G after  ratio")
rd, rg = [], []
for i, (x, y) in enumerate(zip(b, a)):
    d, g = y["d_step_ms"] / x["d_step_ms"], y["g_step_ms"] / x["g_step_ms"]
    rd.append(d); rg.append(g)
    print(f"{i+1:4d}  {x['d_step_ms']:8.1f} {y['d_step_ms']:8.1f} {d:6.3f}   {x['g_step_ms']:8.1f} {y['g_step_ms']:8.1f} {g:6.3f}")
print(f"median after/before: D {statistics.median(rd):.3f}, G {statistics.median(rg):.3f}")
PY
