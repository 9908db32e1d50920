#!/usr/bin/env bash
# Data-parallel scaling of gan-train on this machine (BENCHMARKS.md, "Data-parallel training"):
# images/s of a spec (default Specs/mnist_gan.yaml, its global batch) with 1 rank × 1 thread,
# 2 ranks × 1 thread (mpirun, shared memory) and 1 rank × 2 threads, ROUNDS interleaved rounds,
# each STEPS D iterations; the rate counts iterations after the first WARM (compilation and
# first-touch excluded) from the run's metrics.jsonl times, × the global batch. Each round
# prints the 1-minute load average before it; the end prints each configuration's median and
# its ratio to 1 × 1. For 2 ranks it also prints the share of the run spent in the gradient
# collectives (gan-train's last line); TIMING=1 adds gan-train --timing's per-phase tables
# (rank by rank) of the 2-rank runs. Each run's CPU time (user + system of the whole job, both
# ranks and mpirun: /usr/bin/time) is printed too, and at the end each configuration's median
# CPU time relative to 1 × 1 (the same iterations: > 1 is work the ranks repeat or spin).
# CONFIGS picks the configurations (default "1x1 2x1 1x2"); "2x1y" is 2 ranks with Open MPI's
# mpi_yield_when_idle (a waiting rank yields the core instead of busy-polling), "2x1z" 2 ranks
# without the optimizer sharding (GANNET_BASELINE=zero1: one allreduce, every rank updates all
# parameters). "2i" is the ceiling without any communication: two independent 1-thread processes
# at once, each training the spec with half the global batch (what each rank computes), their
# images/s summed; 2x1 / 2i is then the share of the ceiling that the allreduce and the rank
# coupling cost. BIN runs another
# gan-train binary (an older build, for interleaved before/after rounds).
# Usage: [TIMING=1] [CONFIGS="1x1 2x1 2x1y"] [BIN=gan-train] Tools/bench/mpi_scaling.sh [SPEC] [STEPS=36] [ROUNDS=2] [WARM=6]
set -euo pipefail
cd "$(dirname "$0")/../.."
spec=${1:-Specs/mnist_gan.yaml}; steps=${2:-36}; rounds=${3:-2}; warm=${4:-6}
bin=${BIN:-.build/release/gan-train}
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
configs=${CONFIGS:-1x1 2x1 1x2}
cpu=(/usr/bin/time -f "%U %S")
for r in $(seq "$rounds"); do
  echo "round $r, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for cfg in $configs; do
    out="$tmp/$cfg-$r"; args=("$spec" --out "$out" --max-steps "$steps" --log-every 1)
    case $cfg in
      1x1) "${cpu[@]}" -o "$out.cpu" "$bin" "${args[@]}" --threads 1 2>"$out.err" ;;
      2x1) "${cpu[@]}" -o "$out.cpu" "${mpirun[@]}" -np 2 "$bin" "${args[@]}" --threads 1 "${timing[@]}" 2>"$out.err" ;;
      2x1y) "${cpu[@]}" -o "$out.cpu" "${mpirun[@]}" --mca mpi_yield_when_idle 1 -np 2 "$bin" "${args[@]}" --threads 1 "${timing[@]}" 2>"$out.err" ;;
      2x1z) "${cpu[@]}" -o "$out.cpu" "${mpirun[@]}" -x GANNET_BASELINE=zero1 -np 2 "$bin" "${args[@]}" --threads 1 "${timing[@]}" 2>"$out.err" ;;
      1x2) "${cpu[@]}" -o "$out.cpu" "$bin" "${args[@]}" --threads 2 2>"$out.err" ;;
      2i) half="$tmp/half.yaml"
          sed -E "s/^( *batch_size: *)$batch\b/\1$((batch / 2))/" "$spec" >"$half"
          grep -q "batch_size: $((batch / 2))" "$half" || { echo "2i: cannot halve batch_size in $spec" >&2; exit 2; }
          "${cpu[@]}" -o "$out.cpu" bash -c '"$1" "$2" --out "$3a" --max-steps "$4" --log-every 1 --threads 1 2>"$3a.err" &
            "$1" "$2" --out "$3b" --max-steps "$4" --log-every 1 --threads 1 2>"$3b.err"; wait' _ "$bin" "$half" "$out" "$steps"
          a=$(rate "${out}a/metrics.jsonl" $((batch / 2))); b=$(rate "${out}b/metrics.jsonl" $((batch / 2)))
          mkdir -p "$out"; : >"$out.err"
          v=$(python3 -c "print('%.1f' % ($a + $b))"); c=$(awk '{print $1 + $2}' "$out.cpu")
          echo "$cfg $v $c" >>"$tmp/rates"
          echo "round $r ranks×threads $cfg: $v images/s ($a + $b), cpu $c s"; continue ;;
      *) echo "unknown configuration $cfg" >&2; exit 2 ;;
    esac
    v=$(rate "$out/metrics.jsonl" "$batch"); c=$(awk '{print $1 + $2}' "$out.cpu")
    echo "$cfg $v $c" >>"$tmp/rates"
    echo "round $r ranks×threads $cfg: $v images/s, cpu $c s $(grep -o 'gradient collectives.*' "$out.err" || true)"
    if [ "${cfg:0:3}" = 2x1 ] && [ ${#timing[@]} -gt 0 ]; then sed -n '/^timing/,/collectives inside/p' "$out.err"; fi
  done
done
python3 - "$tmp/rates" <<'PY'
import statistics, sys
rates, cpus, order = {}, {}, []
for line in open(sys.argv[1]):
    cfg, v, c = line.split()
    if cfg not in order: order.append(cfg)
    rates.setdefault(cfg, []).append(float(v)); cpus.setdefault(cfg, []).append(float(c))
base = statistics.median(rates.get("1x1", rates[order[0]]))
cbase = statistics.median(cpus.get("1x1", cpus[order[0]]))
for cfg in order:
    m, c = statistics.median(rates[cfg]), statistics.median(cpus[cfg])
    print("median %s: %.1f images/s (%.2fx 1x1), cpu %.2f s (%.2fx 1x1) over %d rounds" % (cfg, m, m / base, c, c / cbase, len(rates[cfg])))
PY
