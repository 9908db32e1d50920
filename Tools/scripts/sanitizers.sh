#!/usr/bin/env bash
# Runs the unit tests under AddressSanitizer and ThreadSanitizer, each build in its own scratch
# path (.build-address, .build-thread) so the ordinary .build stays as it is. Release
# configuration by default (SANITIZER_CONFIG=debug for debug builds; debug SIMD tests are very
# slow). Slow either way: not part of test-all.sh.
#
# Usage: Tools/scripts/sanitizers.sh [address|thread|all] [FILTER]
#        FILTER is passed to `swift test --filter` (e.g. 'GraphIRTests|SpecFormatTests');
#        without it every suite runs.
# ASan runs with detect_leaks=0 (XCTest and Foundation keep allocations alive at exit);
# TSan with halt_on_error=1. SWIFT_BACKTRACE=enable=no lets the sanitizer report a trap.
# Exit status: non-zero when a build fails, a test fails or a sanitizer reports.
set -euo pipefail
cd "$(dirname "$0")/../.."
which="${1:-all}"
filter="${2:-}"
args=()
[[ -n "$filter" ]] && args=(--filter "$filter")
export SWIFT_BACKTRACE=enable=no
run() {
    local sanitizer="$1"
    echo "== swift test --sanitize=$sanitizer ${filter:+--filter '$filter'}" >&2
    swift test -c "${SANITIZER_CONFIG:-release}" --sanitize="$sanitizer" --scratch-path ".build-$sanitizer" "${args[@]}"
}
case "$which" in
    address) ASAN_OPTIONS=detect_leaks=0 run address ;;
    thread) TSAN_OPTIONS=halt_on_error=1 run thread ;;
    all) ASAN_OPTIONS=detect_leaks=0 run address; TSAN_OPTIONS=halt_on_error=1 run thread ;;
    *) echo "usage: $0 [address|thread|all] [FILTER]" >&2; exit 2 ;;
esac
