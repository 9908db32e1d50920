#!/usr/bin/env bash
# Interleaved before/after of an inference change between two builds: runs
# `BIN bench model MODEL --batch B --threads T --json` alternately with the old binary and the
# new one, ROUNDS times (pairs alternate which side runs first, so the machine's drift hits
# both alike), and prints each pair's medians, the new/old ratio and the median ratio
# (< 1: the new build is faster). Keep the old binary by copying .build/release/gannet aside
# before rebuilding.
# Usage: Tools/bench/ab_model.sh OLD_BIN NEW_BIN MODEL [BATCH=1] [THREADS=1] [ROUNDS=6] [REPEATS=20]
set -euo pipefail
old=${1:?usage: ab_model.sh OLD_BIN NEW_BIN MODEL [BATCH] [THREADS] [ROUNDS] [REPEATS]}
new=${2:?usage: ab_model.sh OLD_BIN NEW_BIN MODEL [BATCH] [THREADS] [ROUNDS] [REPEATS]}
model=${3:?usage: ab_model.sh OLD_BIN NEW_BIN MODEL [BATCH] [THREADS] [ROUNDS] [REPEATS]}
batch=${4:-1}; threads=${5:-1}; rounds=${6:-6}; repeats=${7:-20}
for b in "$old" "$new"; do [ -x "$b" ] || { echo "error: $b is not an executable" >&2; exit 2; }; done
[ -r "$model" ] || [[ "$model" == seed:* ]] || { echo "error: cannot read model $model" >&2; exit 2; }
out=$(mktemp); trap 'rm -f "$out"' EXIT
one() {  # $1 = old|new
  local line bin=$new
  [ "$1" = old ] && bin=$old
  line=$("$bin" bench model "$model" --batch "$batch" --threads "$threads" --repeats "$repeats" --json | tail -1) \
    || { echo "error: $bin bench model $model failed" >&2; exit 1; }
  echo "$1 $line" >>"$out"
}
source "$(dirname "$0")/ab_pairs.sh"
ab_pairs "$rounds" old new
python3 "$(dirname "$0")/ab_summary.py" "$out" old new \
  "A/B on $model, batch $batch, $threads thread(s); ms = median forward time per run" ms_median=ms
