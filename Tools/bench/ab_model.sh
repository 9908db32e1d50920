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
one() {  # $1 = old|new, $2 = binary
  local line
  line=$("$2" bench model "$model" --batch "$batch" --threads "$threads" --repeats "$repeats" --json | tail -1) \
    || { echo "error: $2 bench model $model failed" >&2; exit 1; }
  echo "$1 $line" >>"$out"
}
for r in $(seq "$rounds"); do
  if [ $((r % 2)) -eq 1 ]; then one old "$old"; one new "$new"; else one new "$new"; one old "$old"; fi
done
python3 - "$out" "$model" "$batch" "$threads" <<'PY'
import json, sys, statistics
rows = [l.split(" ", 1) for l in open(sys.argv[1]) if l.strip()]
o = [json.loads(j) for k, j in rows if k == "old"]
n = [json.loads(j) for k, j in rows if k == "new"]
print(f"A/B on {sys.argv[2]}, batch {sys.argv[3]}, {sys.argv[4]} thread(s); ms = median forward time per run")
print("pair    old ms    new ms  new/old")
rs = []
for i, (x, y) in enumerate(zip(o, n)):
    r = y["ms_median"] / x["ms_median"]
    rs.append(r)
    print(f"{i+1:4d} {x['ms_median']:9.3f} {y['ms_median']:9.3f}  {r:7.3f}")
print(f"median new/old: {statistics.median(rs):.3f}")
PY
