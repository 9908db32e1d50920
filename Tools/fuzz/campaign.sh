#!/usr/bin/env bash
# One leg of a long fuzzing campaign: runs the already built fuzz-TARGET (Tools/fuzz/run.sh
# builds it) at the lowest CPU priority (FUZZ_NICE, default 19; 0 runs it at normal priority) on the persistent corpus .build-fuzz/corpus/TARGET, with
# run.sh's flags, and appends one summary line per leg to .build-fuzz/logs/campaigns.txt. A
# campaign of N executions may be split into legs on the same corpus; the executions of the
# legs add up (`stat::number_of_executed_units` in each leg's log).
#
# Usage: Tools/fuzz/campaign.sh TARGET RUNS SECONDS     (TARGET: onnx ir spec checkpoint idx png)
#        stops after RUNS executions or SECONDS of wall clock, whichever comes first, or on the
#        first crash (reproducer in .build-fuzz/findings/TARGET/).
# It does not build (a build would wait on SwiftPM's lock of .build-fuzz while another build
# runs there) and never uses setsid: stop a leg by killing its pid. -timeout is 120 s, not
# run.sh's 10: at nice 19 on a loaded machine a process can wait seconds for a core.
# Log of leg K: .build-fuzz/logs/campaign-TARGET-K.log. Exit status: libFuzzer's.
set -uo pipefail
cd "$(dirname "$0")/../.."
t="${1:-}" runs="${2:-}" secs="${3:-}"
[[ " onnx ir spec checkpoint idx png " == *" $t "* && "$runs" =~ ^[0-9]+$ && "$secs" =~ ^[0-9]+$ ]] || {
    echo "usage: $0 TARGET RUNS SECONDS  (TARGET: onnx ir spec checkpoint idx png)" >&2; exit 2; }
bin=.build-fuzz/x86_64-unknown-linux-gnu/release/fuzz-$t
[[ -x "$bin" ]] || { echo "error: $bin is not built (Tools/fuzz/run.sh $t 1 builds it)" >&2; exit 2; }
case "$t" in onnx|png) maxlen=65536 ;; spec) maxlen=8192 ;; *) maxlen=16384 ;; esac
dict=()
[[ -f "Tools/fuzz/dict/$t.dict" ]] && dict=("-dict=Tools/fuzz/dict/$t.dict")
mkdir -p ".build-fuzz/corpus/$t" ".build-fuzz/findings/$t" .build-fuzz/logs
k=1
while [[ -e ".build-fuzz/logs/campaign-$t-$k.log" ]]; do k=$((k + 1)); done
log=".build-fuzz/logs/campaign-$t-$k.log"
start=$(date +%s)
nice -n "${FUZZ_NICE:-19}" env SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "$bin" ".build-fuzz/corpus/$t" "Tools/fuzz/$t/corpus" -runs="$runs" -max_total_time="$secs" \
    -max_len="$maxlen" -timeout=120 -rss_limit_mb=4096 -artifact_prefix=".build-fuzz/findings/$t/" \
    -print_final_stats=1 "${dict[@]}" > "$log" 2>&1
status=$?
execs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{print $2}')
last=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [^ ]+')
inited=$(grep -E '^#[0-9]+[[:space:]]+INITED' "$log" | head -1 | grep -oE 'cov: [0-9]+' | awk '{print $2}')
echo "$(date -u +%FT%TZ) $t leg $k commit $(git rev-parse --short HEAD) nice ${FUZZ_NICE:-19} status $status executions ${execs:-?} start cov ${inited:-?} end $last wall $(( $(date +%s) - start )) s" \
    | tee -a .build-fuzz/logs/campaigns.txt
exit "$status"
