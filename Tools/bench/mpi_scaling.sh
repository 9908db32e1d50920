#!/usr/bin/env bash
# Data-parallel scaling of gan-train on this machine (BENCHMARKS.md, "Data-parallel training"):
# images/s of a spec (default Specs/mnist_gan.yaml, its global batch) with 1 rank × 1 thread,
# 2 ranks × 1 thread (mpirun, shared memory) and 1 rank × 2 threads, ROUNDS interleaved rounds,
# each STEPS D iterations; the rate counts iterations after the first WARM (compilation and
# first-touch excluded) from the run's metrics.jsonl times, × the global batch. Each round
# prints the 1-minute load average before it; the end prints each configuration's median and
# its ratio to 1 × 1. For 2 ranks it also prints the share of the run spent in the gradient
# allreduce (gan-train's last line); TIMING=1 adds gan-train --timing's per-phase tables
# (rank by rank) of the 2-rank runs.
# Usage: [TIMING=1] Tools/bench/mpi_scaling.sh [SPEC] [STEPS=36] [ROUNDS=2] [WARM=6]
set -euo pipefail
cd "$(dirname "$0")/../.."
spec=${1:-Specs/mnist_gan.yaml}; steps=${2:-36}; rounds=${3:-2}; warm=${4:-6}
bin=.build/release/gan-train
[ -x "$bin" ] || swift build -c release >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mpirun=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader)
timing=(); [ "${TIMING:-0}" = 1 ] && timing=(--timing)
rate() {  # metrics.jsonl → images/s after the warm-up
  python3 - "$1" "$warm" "$2" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
warm, batch = int(sys.argv[2]), int(sys.argv[3])
a = next(r for r in rows if r["step"] > warm); b = rows[-1]
print("%.1f" % ((b["step"] - a["step"]) * batch / (b["time"] - a["time"])))
PY
}
batch=$(python3 -c "import yaml,sys; print(yaml.safe_load(open('$spec'))['schedule']['batch_size'])" 2>/dev/null || echo 128)
for r in $(seq "$rounds"); do
  echo "round $r, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for cfg in "1x1" "2x1" "1x2"; do
    out="$tmp/$cfg-$r"; args=("$spec" --out "$out" --max-steps "$steps" --log-every 1)
    case $cfg in
      1x1) "$bin" "${args[@]}" --threads 1 2>"$out.err" ;;
      2x1) "${mpirun[@]}" -np 2 "$bin" "${args[@]}" --threads 1 "${timing[@]}" 2>"$out.err" ;;
      1x2) "$bin" "${args[@]}" --threads 2 2>"$out.err" ;;
    esac
    v=$(rate "$out/metrics.jsonl" "$batch"); echo "$cfg $v" >>"$tmp/rates"
    echo "round $r ranks×threads $cfg: $v images/s $(grep -o 'gradient allreduce.*' "$out.err" || true)"
    if [ "$cfg" = 2x1 ] && [ ${#timing[@]} -gt 0 ]; then sed -n '/^timing/,/collectives inside/p' "$out.err"; fi
  done
done
python3 - "$tmp/rates" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    cfg, v = line.split(); rates.setdefault(cfg, []).append(float(v))
base = statistics.median(rates["1x1"])
for cfg in ("1x1", "2x1", "1x2"):
    m = statistics.median(rates[cfg])
    print("median %s: %.1f images/s (%.2fx 1x1) over %d rounds" % (cfg, m, m / base, len(rates[cfg])))
PY
