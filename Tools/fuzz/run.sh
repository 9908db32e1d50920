#!/usr/bin/env bash
# Builds and runs one libFuzzer target (or all of them in turn).
#
# Usage: Tools/fuzz/run.sh TARGET|all [SECONDS]      TARGET: onnx ir spec checkpoint idx png
#        SECONDS defaults to $FUZZ_SECONDS, else 60 (per target).
#        SECONDS 0: no time limit (end with -runs=N in FUZZ_ARGS, or on the first crash).
# Env:   FUZZ_ARGS  extra libFuzzer flags (e.g. "-runs=1000000" or "-seed=1").
#        FUZZ_TIMEOUT  seconds (wall clock) before an input counts as a hang (default 10;
#                   raise it for a niced campaign on a loaded machine, where a process can
#                   wait many seconds for a core).
#        FUZZ_LOG   where the full libFuzzer log goes (default .build-fuzz/logs/TARGET.log).
# The product fuzz-TARGET is built with `swift build -c release --sanitize=fuzzer
# -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address` into .build-fuzz (GANNET_FUZZ=1
# adds the fuzz products to Package.swift; ordinary builds never see them). Not
# `--sanitize=fuzzer --sanitize=address`: SwiftPM passes those to swiftc as two `-sanitize=`
# flags in an order that changes from one build plan to the next, and swiftc keeps only the
# last one, so each plan got either coverage without ASan or ASan without coverage (a blind
# fuzzer). After the build the script checks that FuzzSupport's object carries both, and after
# the run that libFuzzer loaded coverage counters. The run mutates a working copy of the committed seed
# corpus (.build-fuzz/corpus/TARGET, so the repository stays clean) with the dictionary
# Tools/fuzz/dict/TARGET.dict when there is one, one process (-jobs is not used),
# SWIFT_BACKTRACE=enable=no so a Swift trap is a libFuzzer crash; crashes, leaks-off
# ASan reports and inputs running over $FUZZ_TIMEOUT s (default 10) are written to
# .build-fuzz/findings/TARGET/ (not .build-fuzz/artifacts/, which SwiftPM empties on every build).
# Exit status: non-zero when the build fails or any input crashed or hung.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
targets=(onnx ir spec checkpoint idx png)
target="${1:-}"
seconds="${2:-${FUZZ_SECONDS:-60}}"
if [[ -z "$target" ]]; then echo "usage: $0 TARGET|all [SECONDS]  (TARGET: ${targets[*]})" >&2; exit 2; fi
if [[ "$target" == all ]]; then
    for t in "${targets[@]}"; do "$0" "$t" "$seconds"; done
    exit 0
fi
[[ " ${targets[*]} " == *" $target "* ]] || { echo "error: unknown target '$target' (${targets[*]})" >&2; exit 2; }
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "error: SECONDS must be a whole number, got '$seconds'" >&2; exit 2; }

product="fuzz-$target"
# One SwiftPM sanitizer (fuzzer: it links libFuzzer's main), then both for every Swift compile
# as one trailing flag (the last -sanitize= wins), and ASan for the C targets.
flags=(-c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=address --scratch-path .build-fuzz)
start=$(date +%s)
GANNET_FUZZ=1 swift build "${flags[@]}" --product "$product" >&2
echo "fuzz: built $product in $(( $(date +%s) - start )) s" >&2
bindir="$(GANNET_FUZZ=1 swift build "${flags[@]}" --show-bin-path)"
bin="$bindir/$product"
# Both instrumentations in the Swift code every target links (an undefined __asan_* and
# __sanitizer_cov_* reference in FuzzSupport's object); skipped where nm is missing.
if command -v nm > /dev/null; then
    undef="$(nm -u "$bindir"/FuzzSupport.build/*.o)"
    for want in __asan_ __sanitizer_cov_; do
        grep -q "$want" <<< "$undef" || { echo "error: $product's Swift code lacks $want instrumentation (see run.sh's build flags)" >&2; exit 1; }
    done
fi

work=".build-fuzz/corpus/$target"
# Not .build-fuzz/artifacts: SwiftPM empties that directory on every build.
artifacts=".build-fuzz/findings/$target/"
mkdir -p "$work" "$artifacts"
# spec: 8192 keeps the largest seed (3.3 KB) and room to nest past YAMLDepth's 256 levels;
# a parse costs time linear in the length (libyaml and Yams are ~80 % of it), so 65536 only
# made every input slower.
case "$target" in
    onnx|png) maxlen=65536 ;;
    spec) maxlen=8192 ;;
    *) maxlen=16384 ;;
esac
# A libFuzzer dictionary (tokens of the format) when the target has one.
dict=()
[[ -f "Tools/fuzz/dict/$target.dict" ]] && dict=("-dict=Tools/fuzz/dict/$target.dict")
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
log="${FUZZ_LOG:-.build-fuzz/logs/$target.log}"
mkdir -p "$(dirname "$log")"
set +e
# shellcheck disable=SC2086
"$bin" "$work" "Tools/fuzz/$target/corpus" -max_total_time="$seconds" -max_len="$maxlen" -timeout="${FUZZ_TIMEOUT:-10}" \
    -rss_limit_mb=4096 -artifact_prefix="$artifacts" -print_final_stats=1 "${dict[@]}" ${FUZZ_ARGS:-} > "$log" 2>&1
status=$?
set -e
grep -E '^(INFO: Loaded [0-9]+ modules|#[0-9]+ +(INITED|DONE)|Done|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written|INFO: Seed|Fatal error)' "$log" || true
if [[ $status -ne 0 ]]; then
    echo "fuzz: $product FAILED (status $status); log $log, reproducer in $artifacts" >&2
    tail -40 "$log" >&2
fi
# A binary without coverage counters fuzzes blind (libFuzzer says "no interesting inputs").
if ! grep -qE '^INFO: Loaded [0-9]+ modules +\([0-9]+ inline 8-bit counters\)' "$log"; then
    echo "fuzz: $product FAILED: libFuzzer loaded no coverage counters (the build is not instrumented); log $log" >&2
    exit 1
fi
exit "$status"
