#!/usr/bin/env bash
# Data-parallel scaling of gan-train on this machine (BENCHMARKS.md, "Data-parallel training"):
# images/s of a spec (default Specs/mnist_gan.yaml, its global batch) with 1 rank × 1 thread,
# 2 ranks × 1 thread (mpirun, shared memory) and 1 rank × 2 threads, ROUNDS interleaved rounds,
# each STEPS D iterations; the rate counts iterations after the first WARM (compilation and
# first-touch excluded) from the run's metrics.jsonl times, × the global batch. For 2 ranks it
# also prints the share of the run spent in the gradient allreduce (gan-train's last line).
# Usage: Tools/bench/mpi_scaling.sh [SPEC] [STEPS=36] [ROUNDS=2] [WARM=6]
set -euo pipefail
cd "$(dirname "$0")/../.."
spec=${1:-Specs/mnist_gan.yaml}; steps=${2:-36}; rounds=${3:-2}; warm=${4:-6}
bin=.build/release/gan-train
[ -x "$bin" ] || swift build -c release >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mpirun=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca btl self,vader)
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
  for cfg in "1x1" "2x1" "1x2"; do
    out="$tmp/$cfg-$r"; args=("$spec" --out "$out" --max-steps "$steps" --log-every 1)
    case $cfg in
      1x1) "$bin" "${args[@]}" --threads 1 2>"$out.err" ;;
      2x1) "${mpirun[@]}" -np 2 "$bin" "${args[@]}" --threads 1 2>"$out.err" ;;
      1x2) "$bin" "${args[@]}" --threads 2 2>"$out.err" ;;
    esac
    echo "round $r ranks×threads $cfg: $(rate "$out/metrics.jsonl" "$batch") images/s $(grep -o 'gradient allreduce.*' "$out.err" || true)"
  done
done
