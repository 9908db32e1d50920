#!/usr/bin/env bash
# Runs the unit tests under AddressSanitizer and ThreadSanitizer, each build in its own scratch
# path (.build-address, .build-thread) so the ordinary .build stays as it is. Release
# configuration by default (SANITIZER_CONFIG=debug for debug builds; debug SIMD tests are very
# slow). Slow either way: not part of test-all.sh.
#
# Usage: Tools/scripts/sanitizers.sh [--build-only|--skip-build] [address|thread|all] [FILTER]
#   default       build (`swift build --build-tests --sanitize=S`), then test with --skip-build
#   --build-only  only the build (so a long build and the test runs can be scheduled apart)
#   --skip-build  only the tests, against the build already in .build-S (never rebuilds: a
#                 `swift test` that builds uses other flags and would recompile everything)
#   FILTER        passed to `swift test --filter` (e.g. 'GraphIRTests|SpecFormatTests');
#                 without it every suite runs.
# ASan runs with detect_leaks=0 (XCTest and Foundation keep allocations alive at exit); TSan
# with halt_on_error=0, so one (slow) run reports every race, and exits 66 if it reported any.
# Suppression files, when present, are Tools/sanitizers/{asan,tsan}.supp (each entry says why).
# ASAN_OPTIONS / TSAN_OPTIONS set by the caller are appended. The test processes' children
# (gan-train, gan-eval, … started by CommandsTests and DistributedTests) are the sanitized
# builds from the same scratch path and inherit these options. SWIFT_BACKTRACE=enable=no lets
# the sanitizer report a trap.
# A stopped sanitizer build restarts from scratch: let it finish.
# Exit status: non-zero when a build fails, a test fails or a sanitizer reports.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=all
case "${1:-}" in
    --build-only) mode=build; shift ;;
    --skip-build) mode=test; shift ;;
esac
which="${1:-all}"
filter="${2:-}"
config="${SANITIZER_CONFIG:-release}"
args=()
[[ -n "$filter" ]] && args=(--filter "$filter")
export SWIFT_BACKTRACE=enable=no
supp() {
    local file="Tools/sanitizers/$1.supp"
    [[ -f "$file" ]] && echo ":suppressions=$PWD/$file" || true
}
asan_options="detect_leaks=0$(supp asan)${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
tsan_options="halt_on_error=0:second_deadlock_stack=1$(supp tsan)${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
run() {
    local sanitizer="$1"
    if [[ "$mode" != test ]]; then
        echo "== swift build -c $config --sanitize=$sanitizer --build-tests --scratch-path .build-$sanitizer" >&2
        swift build -c "$config" --sanitize="$sanitizer" --build-tests --scratch-path ".build-$sanitizer"
    fi
    if [[ "$mode" != build ]]; then
        echo "== swift test -c $config --sanitize=$sanitizer --skip-build ${filter:+--filter '$filter'}" >&2
        swift test -c "$config" --sanitize="$sanitizer" --scratch-path ".build-$sanitizer" --skip-build "${args[@]}"
    fi
}
case "$which" in
    address) ASAN_OPTIONS="$asan_options" run address ;;
    thread) TSAN_OPTIONS="$tsan_options" run thread ;;
    all) ASAN_OPTIONS="$asan_options" run address; TSAN_OPTIONS="$tsan_options" run thread ;;
    *) echo "usage: $0 [--build-only|--skip-build] [address|thread|all] [FILTER]" >&2; exit 2 ;;
esac
